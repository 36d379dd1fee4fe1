package dev.cryo.plugin.regularfile;

import dev.cryo.api.CryoException;
import dev.cryo.plugin.regularfile.proto.RegularFileEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.*;

class FileCheckTest {
    static final String WHO = "pid 812 \"nginx\" fd 5";

    @TempDir
    Path dir;

    @Test
    void unchangedFileIsAcceptedAndAChangedSizeIsRefusedUnlessSkipped() throws Exception {
        Path f = Files.write(dir.resolve("data.bin"), new byte[100]);
        RegularFileEntry e = entry(f);
        assertDoesNotThrow(() -> FileCheck.check(WHO, e, FileCheck.FileState.of(f), false));

        Files.write(f, new byte[23], StandardOpenOption.APPEND);
        CryoException ex = refused("regular-file/SIZE_CHANGED", e, f, false);
        assertTrue(ex.getMessage().contains("100 bytes expected, 123 found"), ex.getMessage());
        assertEquals("pass --skip-file-size-check (or add skip-file-size-check to the config) to accept a file "
                + "that changed", ex.fix());

        assertDoesNotThrow(() -> FileCheck.check(WHO, e, FileCheck.FileState.of(f), true));
    }

    @Test
    void missingFileIsRefusedEvenWithTheSkipOption() throws Exception {
        Path f = Files.write(dir.resolve("gone"), new byte[1]);
        RegularFileEntry e = entry(f);
        Files.delete(f);
        refused("regular-file/FILE_MISSING", e, f, true);
    }

    @Test
    void aFileReplacedByADirectoryIsRefused() throws Exception {
        Path f = Files.write(dir.resolve("thing"), new byte[1]);
        RegularFileEntry e = entry(f);
        Files.delete(f);
        Files.createDirectory(f);
        CryoException ex = refused("regular-file/TYPE_CHANGED", e, f, true);
        assertTrue(ex.getMessage().contains("a regular file at dump and a directory now"), ex.getMessage());
    }

    @Test
    void directoriesAndCharDevicesHaveNoSizeCheck() throws Exception {
        RegularFileEntry d = entry(dir).toBuilder().setSize(1).build();
        assertDoesNotThrow(() -> FileCheck.check(WHO, d, FileCheck.FileState.of(dir), false));
        Path devNull = Path.of("/dev/null");
        RegularFileEntry n = entry(devNull).toBuilder().setSize(42).setCharDevice(true).build();
        assertDoesNotThrow(() -> FileCheck.check(WHO, n, FileCheck.FileState.of(devNull), false));
    }

    /**
     * Checks the file {@code f} against its record {@code e}, which must be refused as a CONFLICT with {@code code}
     * and a message naming the fd and the file; returns the refusal.
     */
    private static CryoException refused(String code, RegularFileEntry e, Path f, boolean skipSizeCheck) {
        CryoException ex = assertThrows(CryoException.class,
                () -> FileCheck.check(WHO, e, FileCheck.FileState.of(f), skipSizeCheck));
        assertEquals(code, ex.code());
        assertEquals(CryoException.Category.CONFLICT, ex.category());
        assertTrue(ex.getMessage().contains(WHO) && ex.getMessage().contains(f.toString()), ex.getMessage());
        return ex;
    }

    private static RegularFileEntry entry(Path p) throws Exception {
        FileCheck.FileState s = FileCheck.FileState.of(p).orElseThrow();
        return RegularFileEntry.newBuilder().setPath(p.toString()).setMode(s.mode()).setSize(s.size())
                .setFlags(OpenFlags.O_RDONLY).build();
    }
}
