package dev.cryo.core.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which dumped controlling terminal a restored leader takes again: only a pty whose master cryo holds. */
class ControllingTerminalTest {
    @Test
    void ttyNrOfUnix98SlavesGivesTheirIndex() {
        assertEquals(0, ControllingTerminal.ptyIndex(136 << 8));
        assertEquals(3, ControllingTerminal.ptyIndex(136 << 8 | 3));
        assertEquals(300, ControllingTerminal.ptyIndex(137 << 8 | 44));
        assertEquals(256 * 7 + 255, ControllingTerminal.ptyIndex(143 << 8 | 255));
        assertEquals(1000, ControllingTerminal.ptyIndex(139 << 8 | 232));
        assertEquals(-1, ControllingTerminal.ptyIndex(0), "no controlling terminal");
        assertEquals(-1, ControllingTerminal.ptyIndex(4 << 8 | 1), "/dev/tty1");
        assertEquals(-1, ControllingTerminal.ptyIndex(5 << 8 | 1), "/dev/console");
        assertEquals(-1, ControllingTerminal.ptyIndex(144 << 8), "beyond the unix98 slave majors");
    }

    @Test
    void onlyAMasterWithThatIndexCounts(@TempDir Path self) throws Exception {
        Files.createDirectories(self.resolve("fd"));
        Files.createDirectories(self.resolve("fdinfo"));
        Files.createSymbolicLink(self.resolve("fd/7"), Path.of("/dev/ptmx"));
        Files.writeString(self.resolve("fdinfo/7"), "pos:\t0\nflags:\t02000002\ntty-index:\t4\n");
        Files.createSymbolicLink(self.resolve("fd/8"), Path.of("/dev/pts/5")); // a slave is not a master
        Files.writeString(self.resolve("fdinfo/8"), "pos:\t0\n");
        assertTrue(ControllingTerminal.cryoHoldsMaster(self, 4));
        assertFalse(ControllingTerminal.cryoHoldsMaster(self, 5));
        assertFalse(ControllingTerminal.cryoHoldsMaster(self, 0));
    }
}
