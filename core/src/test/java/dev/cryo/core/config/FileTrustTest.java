package dev.cryo.core.config;

import dev.cryo.api.CryoException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Files created by root under a fresh temporary directory, with modes and owners changed one at a time. */
class FileTrustTest {
    @TempDir
    Path tmp;
    private Path file;

    @BeforeEach
    void rootOwnedFile() throws Exception {
        // the checks look at owners: meaningful only for files root created (the build runs as root on CI)
        assumeTrue(FileTrust.effectiveUid() == 0, "not root");
        Path dir = Files.createDirectory(tmp.resolve("conf"));
        file = Files.writeString(dir.resolve("cryo.conf"), "fsync\n");
        Files.setAttribute(file, "unix:mode", 0644);
    }

    @Test
    void aRootOwnedFileUnderRootOwnedDirectoriesIsTrusted() throws Exception {
        FileTrust.enforcing().check(file, "configuration file");
        Files.setAttribute(file, "unix:mode", 0600);
        FileTrust.enforcing().check(file, "configuration file");
    }

    @Test
    void groupOrOtherWriteOnTheFileIsRefused() throws Exception {
        Files.setAttribute(file, "unix:mode", 0664);
        CryoException e = refused();
        assertTrue(e.getMessage().contains("configuration file " + file + " as root: it is writable by group "
                + "(owner uid 0, mode 0664)"), e.getMessage());
        assertTrue(e.fix().startsWith("chmod go-w " + file), e.fix());
        Files.setAttribute(file, "unix:mode", 0646);
        assertTrue(refused().getMessage().contains("writable by others (owner uid 0, mode 0646)"));
    }

    @Test
    void anotherOwnerIsRefused() throws Exception {
        Files.setAttribute(file, "unix:uid", 4321);
        CryoException e = refused();
        assertTrue(e.getMessage().contains("is owned by uid 4321, not root (owner uid 4321, mode 0644)"),
                e.getMessage());
        assertTrue(e.fix().startsWith("chown root " + file), e.fix());
    }

    @Test
    void aWritableParentIsRefusedUnlessStickyAndRootOwned() throws Exception {
        Path dir = file.getParent();
        Files.setAttribute(dir, "unix:mode", 0777);
        CryoException e = refused();
        assertTrue(e.getMessage().contains("its directory " + dir + " is writable by group and others"),
                e.getMessage());
        assertTrue(e.fix().startsWith("chmod go-w " + dir), e.fix());
        Files.setAttribute(dir, "unix:mode", 01777);
        FileTrust.enforcing().check(file, "configuration file");
        Files.setAttribute(dir, "unix:uid", 4321);
        assertTrue(refused().getMessage().contains("its directory " + dir + " is owned by uid 4321"));
    }

    @Test
    void aSymlinkIsJudgedByWhatItPointsTo() throws Exception {
        Path link = Files.createSymbolicLink(tmp.resolve("link.conf"), file);
        FileTrust.enforcing().check(link, "configuration file");
        Files.setAttribute(file, "unix:mode", 0666);
        CryoException e = assertThrows(CryoException.class,
                () -> FileTrust.enforcing().check(link, "configuration file"));
        assertTrue(e.getMessage().contains("configuration file " + link + " (" + file.toRealPath() + ")"),
                e.getMessage());
    }

    @Test
    void theOptOutTurnsTheCheckOffAndIsLoud() throws Exception {
        Files.setAttribute(file, "unix:mode", 0666);
        FileTrust off = FileTrust.of(Map.of(FileTrust.INSECURE_ENV, "1"));
        assertFalse(off.isEnforcing());
        off.check(file, "configuration file");
        assertTrue(FileTrust.insecureWarning(Map.of(FileTrust.INSECURE_ENV, "1")).orElseThrow()
                .startsWith("cryo: WARNING: CRYO_INSECURE=1"));
        assertTrue(FileTrust.of(Map.of(FileTrust.INSECURE_ENV, "0")).isEnforcing());
        assertEquals(java.util.Optional.empty(), FileTrust.insecureWarning(Map.of()));
    }

    @Test
    void theConfigChainChecksEveryFile() throws Exception {
        Files.setAttribute(file, "unix:mode", 0620);
        Path home = Files.createDirectory(tmp.resolve("home"));
        CryoException e = assertThrows(CryoException.class, () -> ConfigLoader.load(home, tmp.resolve("none"),
                Map.of(), java.util.Optional.of(file), java.util.List.of()));
        assertEquals("core/UNSAFE_FILE", e.code());
        ConfigLoader.load(home, tmp.resolve("none"), Map.of(FileTrust.INSECURE_ENV, "1"), java.util.Optional.of(file),
                java.util.List.of());
    }

    private CryoException refused() {
        CryoException e = assertThrows(CryoException.class,
                () -> FileTrust.enforcing().check(file, "configuration file"));
        assertEquals("core/UNSAFE_FILE", e.code());
        return e;
    }
}
