package dev.cryo.plugin.regularfile;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdInfo;
import dev.cryo.api.Pid;
import dev.cryo.api.TargetFd;
import dev.cryo.plugin.regularfile.proto.RegularFileEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.*;

class RegularFileHandlerTest {
    final RegularFileHandler handler = new RegularFileHandler();

    @TempDir
    Path dir;

    @Test
    void collectsARealAppendFdWithItsPositionAndWithoutOpenTimeFlags() throws Exception {
        Path f = dir.resolve("app.log");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.wrap("hello\n".getBytes()));
            FdInfo info = OwnFds.info(OwnFds.fdOf(f));
            assertTrue(handler.probe(info));
            RegularFileEntry e = RegularFileHandler.entryOf(Pid.of(77), "java", info);
            assertEquals(f.toString(), e.getPath());
            assertEquals(OpenFlags.O_WRONLY, e.getFlags() & OpenFlags.O_ACCMODE);
            assertNotEquals(0, e.getFlags() & OpenFlags.O_APPEND);
            assertEquals(0, e.getFlags() & (OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_CLOEXEC));
            assertEquals(6, e.getPos());
            assertEquals(6, e.getSize());
            assertFalse(e.getCharDevice());
            assertEquals(Files.getAttribute(f, "unix:ino"), e.getInode());
        }
    }

    @Test
    void probeClaimsFilesDirectoriesAndKnownCharDevicesOnly() throws Exception {
        Path f = Files.writeString(dir.resolve("x"), "x");
        assertTrue(handler.probe(statInfo(f, f.toString())));
        assertTrue(handler.probe(statInfo(dir, dir.toString())));
        for (String dev : new String[]{"/dev/null", "/dev/zero", "/dev/full", "/dev/urandom", "/dev/random"}) {
            if (Files.exists(Path.of(dev))) {
                FdInfo info = statInfo(Path.of(dev), dev);
                assertTrue(info.isCharDevice(), dev);
                assertTrue(handler.probe(info), dev);
            }
        }
        assertTrue(handler.probe(charDev("/dev/pts/3")));
        assertTrue(handler.probe(charDev("/dev/tty")));
        assertTrue(handler.probe(charDev("/dev/tty1")));
        assertTrue(handler.probe(charDev("/dev/ttyS0")));
        assertTrue(handler.probe(charDev("/dev/console")));
        assertFalse(handler.probe(charDev("/dev/ptmx")));
        assertFalse(handler.probe(charDev("/dev/pts/ptmx")));
        assertFalse(handler.probe(charDev("/dev/kvm")));
        assertFalse(handler.probe(charDev("/dev/nullx")));
        assertFalse(handler.probe(new FdInfo(TargetFd.of(3), "pipe:[123]", FdInfo.S_IFIFO | 0600, 0, 123, 0, 0, 0,
                0, false, 0, 15)));
        assertFalse(handler.probe(new FdInfo(TargetFd.of(3), "socket:[124]", FdInfo.S_IFSOCK | 0777, 0, 124, 0, 0,
                0, 2, false, 0, 15)));
        // a block device named like an allowed char device is not claimed
        assertFalse(handler.probe(new FdInfo(TargetFd.of(3), "/dev/null", 0060000 | 0660, 5, 6, 0x103, 0, 0, 2,
                false, 0, 15)));
    }

    @Test
    void aDeletedDirectoryIsRefusedNamingProcessFdAndPath() throws Exception {
        Path d = Files.createDirectory(dir.resolve("gone"));
        FdInfo info = new FdInfo(TargetFd.of(7), d + " (deleted)", FdInfo.S_IFDIR | 0755, 5, 6, 0, 4096, 0,
                OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY, false, 0, 15);
        assertTrue(handler.probe(info), "claimed, so that the refusal says why");
        CryoException e = assertThrows(CryoException.class,
                () -> RegularFileHandler.entryOf(Pid.of(812), "nginx", info));
        assertEquals("regular-file/DELETED_FILE", e.code());
        assertEquals(CryoException.Category.UNSUPPORTED, e.category());
        assertTrue(e.getMessage().contains("pid 812 \"nginx\" fd 7 is open on " + d + ", a directory"),
                e.getMessage());
    }

    @Test
    void aMemfdLeftToThisPluginNamesTheMemoryPlugin() {
        FdInfo info = new FdInfo(TargetFd.of(4), "/memfd:buf (deleted)", FdInfo.S_IFREG | 0777, 1, 2, 0, 4096, 0,
                OpenFlags.O_RDWR, false, 0, 15);
        CryoException e = assertThrows(CryoException.class,
                () -> RegularFileHandler.entryOf(Pid.of(812), "nginx", info));
        assertEquals("regular-file/MEMFD", e.code());
        assertTrue(e.getMessage().contains("fd 4 is the memfd memfd:buf"), e.getMessage());
        assertTrue(e.fix().contains("'memory'"), e.fix());
    }

    @Test
    void aGhostOverTheLimitNamesFileSizeAndOption() {
        CryoException e = assertThrows(CryoException.class, () -> GhostFileDump.checkLimit(
                "pid 812 \"nginx\" fd 5", "/tmp/big.dat", 3_000_000, 1 << 20));
        assertEquals("regular-file/GHOST_TOO_BIG", e.code());
        assertTrue(e.getMessage().contains("pid 812 \"nginx\" fd 5 is open on /tmp/big.dat, which was deleted"),
                e.getMessage());
        assertTrue(e.getMessage().contains("3000000 bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("ghost-limit of 1048576 bytes (1M)"), e.getMessage());
        assertTrue(e.fix().contains("--ghost-limit 3M"), e.fix());
        assertDoesNotThrow(() -> GhostFileDump.checkLimit("x", "/tmp/f", 1 << 20, 1 << 20));
    }

    private static FdInfo statInfo(Path p, String link) throws Exception {
        var a = Files.readAttributes(p, "unix:mode,dev,ino,rdev,size");
        return new FdInfo(TargetFd.of(3), link, (Integer) a.get("mode"), (Long) a.get("dev"), (Long) a.get("ino"),
                (Long) a.get("rdev"), (Long) a.get("size"), 0, OpenFlags.O_RDONLY, false, 0, 15);
    }

    private static FdInfo charDev(String path) {
        return new FdInfo(TargetFd.of(0), path, FdInfo.S_IFCHR | 0620, 0x16, 6, 0x8803, 0, 0, OpenFlags.O_RDWR,
                false, 0, 24);
    }
}
