package dev.cryo.plugin.memory;

import dev.cryo.api.CryoException;
import dev.cryo.api.Pid;
import dev.cryo.plugin.memory.proto.VmaEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class MappedFileCheckTest {
    @TempDir
    Path dir;

    @Test
    void devAndInodeMatchWhatMapsShows() throws Exception {
        Path f = dir.resolve("lib.so");
        Files.write(f, new byte[8192]);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, 0, 8192);
            OwnMappings.MapsLine l = OwnMappings.find(f);
            MappedFileCheck.FileState s = MappedFileCheck.FileState.of(f).orElseThrow();
            assertEquals(l.dev(), s.devString());
            assertEquals(l.inode(), s.inode());
            assertEquals(8192, s.size());
            assertEquals(0, m.get(0));
        }
    }

    @Test
    void devStringDecodesLargeMinorsLikeTheKernel() {
        // makedev(259, 70000) in glibc's encoding
        long major = 259;
        long minor = 70000;
        long dev = ((major & 0xfffL) << 8) | ((major & ~0xfffL) << 32) | (minor & 0xffL) | ((minor & ~0xffL) << 12);
        assertEquals("103:11170", MappedFileCheck.devString(dev));
    }

    @Test
    void sizeChangeMissingFileAndSkipOption() throws Exception {
        Path f = dir.resolve("data.bin");
        Files.write(f, new byte[100]);
        MappedFileCheck.FileState now = MappedFileCheck.FileState.of(f).orElseThrow();
        VmaEntry vma = VmaEntry.newBuilder().setStart(0x400000).setEnd(0x401000).setPath(f.toString())
                .setDev(now.devString()).setInode(now.inode()).setFileSize(100).build();
        Pid pid = Pid.of(4242);

        assertDoesNotThrow(() -> MappedFileCheck.check(pid, vma, MappedFileCheck.FileState.of(f), false));
        // another inode of the same size is accepted
        VmaEntry otherInode = vma.toBuilder().setInode(now.inode() + 1).build();
        assertDoesNotThrow(() -> MappedFileCheck.check(pid, otherInode, MappedFileCheck.FileState.of(f), false));

        Files.write(f, new byte[10], StandardOpenOption.APPEND);
        CryoException changed = assertThrows(CryoException.class,
                () -> MappedFileCheck.check(pid, vma, MappedFileCheck.FileState.of(f), false));
        assertEquals("memory/FILE_CHANGED", changed.code());
        assertEquals(CryoException.Category.CONFLICT, changed.category());
        assertTrue(changed.getMessage().contains("100 bytes at dump, 110 now"), changed.getMessage());
        assertTrue(changed.getMessage().contains("pid 4242") && changed.getMessage().contains("400000-401000"),
                changed.getMessage());
        assertTrue(changed.fix().contains("skip-file-size-check"));
        assertDoesNotThrow(() -> MappedFileCheck.check(pid, vma, MappedFileCheck.FileState.of(f), true));

        Files.delete(f);
        assertEquals(Optional.empty(), MappedFileCheck.FileState.of(f));
        CryoException missing = assertThrows(CryoException.class,
                () -> MappedFileCheck.check(pid, vma, MappedFileCheck.FileState.of(f), true));
        assertEquals("memory/FILE_MISSING", missing.code());
        assertTrue(missing.getMessage().contains(f.toString()), missing.getMessage());
    }
}
