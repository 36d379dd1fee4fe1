package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * python3 {@code multiprocessing} ({@code workloads/mp_counter.py}): a Pool of 2 workers increments a shared Value
 * under a Lock. What it holds — POSIX semaphores in deleted {@code /dev/shm/sem.*} files mapped MAP_SHARED by the
 * parent and the workers, the Value's arena (a deleted {@code /dev/shm/pym-*} file held as fds and mapped), the
 * Pool's pipes and threads — is dumped while it counts, restored, and from outside the test checks that it goes on
 * from where it was (no restart) and ends with its own {@code PASS}: every increment done exactly once under a lock
 * the three processes still share. Prints {@code TIMING python3-multiprocessing dump=<ms> restore=<ms>} (restore:
 * from the start of {@code cryo restore} to the first progress line of the restored tree).
 */
class MultiprocessingIT extends WithTestBed {
    private static final int TOTAL = 1500;
    private static final Pattern PROGRESS = Pattern.compile("progress done=(\\d+) value=(\\d+)");

    @Test
    void aPoolWithALockAndASharedValueKeepsCountingCorrectly() throws IOException {
        Path dir = bed.workloads().newDir("mp_counter");
        Path script = dir.resolve("mp_counter.py");
        try (InputStream in = MultiprocessingIT.class.getResourceAsStream("/workloads/mp_counter.py")) {
            Files.copy(in, script);
        }
        Workload w = bed.workloads().startCommand("mp_counter",
                List.of(Workloads.python3(), script.toString(), dir.toString(), Integer.toString(TOTAL)), dir);
        w.awaitReady();
        List<Long> workers = java.util.Arrays.stream(w.ready("workers").split(",")).map(Long::parseLong).toList();
        workers.forEach(bed.workloads()::trackForeignPid);
        w.log().awaitLine(0, l -> progress(l) >= 50, "50 increments", Duration.ofSeconds(60));

        long t0 = System.nanoTime();
        Path image = bed.dumpAndAwaitGone(w);
        long dumpMs = (System.nanoTime() - t0) / 1_000_000;
        long lastBefore = w.log().linesFrom(0).stream().mapToLong(MultiprocessingIT::progress).max().orElse(0);
        assertTrue(lastBefore < TOTAL, "the program finished before the dump; make TOTAL larger");
        long mark = w.log().size();

        long t1 = System.nanoTime();
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        bed.awaitRestoredRoot(rc, w);
        workers.forEach(bed.workloads()::trackForeignPid);
        String first = w.log().awaitLine(mark, l -> progress(l) > 0, "progress after the restore",
                Duration.ofSeconds(60));
        long restoreMs = (System.nanoTime() - t1) / 1_000_000;
        assertTrue(progress(first) > lastBefore - 10 && progress(first) <= lastBefore + 20,
                "it went on from where it was (last before the dump: done=" + lastBefore + "): " + first);
        for (long pid : workers) {
            assertTrue(Files.exists(Path.of("/proc", Long.toString(pid))), "worker " + pid + " is not restored");
        }

        String end = w.log().awaitLine(mark, l -> l.startsWith("PASS") || l.startsWith("FAIL"), "the verdict",
                Duration.ofSeconds(120));
        assertEquals("PASS done=" + TOTAL + " value=" + TOTAL, end, w.log().tail(5));
        Cryo.await(rc).assertExit(0);
        System.out.println("TIMING python3-multiprocessing dump=" + dumpMs + "ms restore=" + restoreMs + "ms");
    }

    private static long progress(String line) {
        Matcher m = PROGRESS.matcher(line);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
