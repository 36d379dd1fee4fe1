package dev.cryo.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * What every integration test class shares: a fresh {@link TestBed} per test in its own temporary directory, closed
 * (every process it started killed and reaped) after the test; and a check that the test left the directory holding
 * that one (the host's {@code /tmp}) with the mode it had (a test made it 0755 once: apt-get failed after the run).
 */
abstract class WithTestBed {
    @TempDir
    Path tmp;
    TestBed bed;
    private int hostTmpMode;

    @BeforeEach
    void openBed() throws IOException {
        hostTmpMode = modeOf(tmp.getParent());
        bed = new TestBed(tmp);
    }

    @AfterEach
    void closeBed() throws IOException {
        bed.close();
        int now = modeOf(tmp.getParent());
        if (now != hostTmpMode) {
            throw new AssertionError("the test changed the mode of " + tmp.getParent() + " from 0"
                    + Integer.toOctalString(hostTmpMode) + " to 0" + Integer.toOctalString(now));
        }
    }

    private static int modeOf(Path dir) throws IOException {
        return ((Number) Files.getAttribute(dir, "unix:mode")).intValue() & 07777;
    }

    /**
     * Makes the directories from the test's temporary directory down to {@code dir} 0755: a server that runs as
     * another user (nobody, postgres, mysql, www-data) must get in. Never above it: the directory that holds it is
     * the host's {@code /tmp}, sticky and world-writable (1777), which a test must not change.
     */
    protected void openToOthers(Path dir) throws IOException {
        if (!dir.startsWith(tmp)) {
            throw new IllegalArgumentException(dir + " is not under the test's directory " + tmp);
        }
        for (Path p = dir; p != null && p.startsWith(tmp); p = p.getParent()) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    /** @return a new directory of the test ({@link Workloads#newDir}), {@link #openToOthers opened to others} */
    protected Path newDirOpenToOthers(String prefix) throws IOException {
        Path dir = bed.workloads().newDir(prefix);
        openToOthers(dir);
        return dir;
    }
}
