package dev.cryo.testkit;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcStatTest {
    @Test
    void aNameWithSpacesAndParenthesesIsTakenWhole() {
        String line = "4711 (my (odd) name) S 1 4711 4711 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        ProcStat s = ProcStat.parse(4711, line);
        assertEquals("my (odd) name", s.comm());
        assertEquals('S', s.state());
        assertEquals(1, s.ppid());
        assertEquals(987654, s.startTime());
    }

    @Test
    void thisJvmIsReadFromProc() {
        long self = ProcessHandle.current().pid();
        ProcStat s = ProcStat.read(self).orElseThrow();
        assertEquals(self, s.pid());
        assertTrue(s.stillRuns());
    }

    @Test
    void theLastCodeCryoPrintedIsTheErrorCode() {
        CryoResult r = new CryoResult(List.of("cryo", "dump"), 3, "", "dump refused: fd 3 of pid 7 \"x\" is a pidfd\n"
                + "Fix: enable it\n[core/UNSUPPORTED_FD]\n", Optional.empty());
        assertEquals(Optional.of("core/UNSUPPORTED_FD"), r.errorCode());
        assertEquals(Optional.empty(), new CryoResult(List.of("cryo"), 0, "", "", Optional.empty()).errorCode());
    }
}
