package com.example.cryo.pidfd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcessViewTest {
    @Test
    void statusAndStatGiveTheFields() {
        String status = "Name:\tmy prog\nState:\tS (sleeping)\nTgid:\t812\nPid:\t815\nPPid:\t1\nTracerPid:\t900\n";
        String stat = "815 (my (odd) prog) S 1 812 812 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 2 0 555666 1000 10";
        ProcessView v = ProcessView.parse(815, status, stat);
        assertEquals("my prog", v.name());
        assertEquals(812, v.tgid());
        assertTrue(v.isThread());
        assertEquals(900, v.tracerPid());
        assertEquals(555666, v.startTime());
        assertEquals("thread 815 of pid 812 \"my prog\"", v.who());
    }

    @Test
    void thisJvmIsRead(@TempDir Path unused) {
        int self = (int) ProcessHandle.current().pid();
        ProcessView v = ProcessView.read(Path.of("/proc"), self).orElseThrow();
        assertEquals(self, v.tgid());
        assertFalse(v.isZombie());
        assertTrue(v.startTime() > 0);
    }
}
