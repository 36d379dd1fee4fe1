package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * POSIX timers ({@code posix_timers.c}): a periodic timer signalling the process, a periodic timer signalling one
 * thread (SIGEV_THREAD_ID), a one-shot SIGEV_NONE timer far in the future, and a deleted id between them. After
 * restore the timers have their ids, clocks, sigevents and intervals, go on firing with the right si_timerid and
 * si_value to the right thread, the one-shot keeps its remaining time, and the deleted id is still free.
 */
class PosixTimersIT extends WithTestBed {

    @Test
    void timersKeepIdsSettingsAndFireAfterRestore() throws IOException {
        Workload w = bed.startChecked("posix_timers");
        String before = timers(w.pid());

        bed.cryo().dump(w.pid(), bed.newImageDir(), "-R").assertOk();
        w.awaitNewTicks(2);
        w.assertVerifyPass();

        TestBed.Restored restored = bed.dumpRestoreAndAwait(w, 2);
        Workload r = restored.workload();
        RunningCryo rc = restored.cryo();
        assertEquals(before, timers(w.pid()), "/proc/PID/timers after restore");
        r.assertVerifyPass();
        r.assertVerifyPass();
        TestBed.killRestored(r, rc);
    }

    /** /proc/PID/timers with the blocks sorted by id. */
    private static String timers(long pid) throws IOException {
        String text = ProcStat.readProcFile(Path.of("/proc", Long.toString(pid), "timers"));
        List<String> blocks = new java.util.ArrayList<>(List.of(text.split("(?=ID:)")));
        blocks.removeIf(String::isBlank);
        blocks.sort(null);
        return String.join("", blocks);
    }
}
