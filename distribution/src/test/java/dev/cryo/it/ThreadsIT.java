package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A multi-threaded process through dump and restore ({@code mt_threads.c}): four counting threads, one blocked in
 * pthread_cond_wait, one blocked in read() on a unix socketpair, and main. After restore every thread makes
 * progress with its tid, its TLS value and its name; no thread is lost or added.
 */
class ThreadsIT extends WithTestBed {
    private static final int KILLED = 128 + ProcessControl.SIGKILL;

    @Test
    void sevenThreadsKeepTidsTlsNamesAndProgress() throws IOException {
        Workload w = bed.workloads().start("mt_threads");
        List<Long> tids = Arrays.stream(w.ready("tids").split(",")).map(Long::parseLong).sorted().toList();
        assertEquals(7, tids.size(), "READY tids");
        w.awaitNewTicks(2);
        w.assertVerifyPass();
        Map<Long, String> before = threads(w.pid());
        assertEquals(tids, List.copyOf(before.keySet()), "/proc task list vs READY");

        TestBed.Restored restored = bed.dumpRestoreAndAwait(w, 2);
        Workload r = restored.workload();
        RunningCryo rc = restored.cryo();

        assertEquals(before, threads(w.pid()), "threads (tid -> name) after restore");
        String v1 = r.assertVerifyPass();
        String v2 = r.assertVerifyPass();
        // the verify before the dump was generation 1: the waiter and the reader woke twice more after restore
        assertTrue(v1.contains("generation=2 ping=2") && v2.contains("generation=3 ping=3"), v1 + "\n" + v2);

        // a restored multi-threaded process dumps and restores again
        Path again = bed.dumpAndAwaitGone(r);
        Cryo.await(rc).assertExit(KILLED);
        // cryo restore returns when the root is reaped; the tree's other processes, killed by the dump at the same
        // moment and reparented to that cryo, may not be reaped by it yet: they come to this JVM when it exits
        ProcessControl.reapOrphans();
        TestBed.Restored restored2 = bed.restoreAndAwaitWithCryo(w, again, 2);
        Workload r2 = restored2.workload();
        RunningCryo rc2 = restored2.cryo();
        assertEquals(before, threads(w.pid()), "threads (tid -> name) after the second restore");
        String v3 = r2.assertVerifyPass();
        assertTrue(v3.contains("generation=4 ping=4"), v3);
        TestBed.killRestored(r2, rc2);
    }

    /** @return tid -> comm of every thread of {@code pid}, by tid */
    private static Map<Long, String> threads(long pid) throws IOException {
        Map<Long, String> m = new TreeMap<>();
        try (var tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : tasks) {
                m.put(Long.parseLong(t.getFileName().toString()), ProcStat.readProcFile(t.resolve("comm")).trim());
            }
        }
        return m;
    }
}
