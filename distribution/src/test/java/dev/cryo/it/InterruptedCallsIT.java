package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A process dumped while its threads are blocked in poll, ppoll, select, epoll_wait, nanosleep (with and without
 * rmtp), clock_nanosleep (relative and absolute), futex and read carries on after the restore: no call fails with
 * EINTR, and each ends when cryo says it does — a sleep that can keep its time left ends as if the dump and the time
 * in the image had not happened, an absolute one at its deadline, the others restart their timeout in full (never
 * early). The workload reports CLOCK_MONOTONIC times, the clock of {@link System#nanoTime()} on Linux.
 */
class InterruptedCallsIT extends WithTestBed {
    private static final int SECONDS = 8;
    private static final long SLACK_NS = 400_000_000L;
    private static final Set<String> KEEP_TIME_LEFT = Set.of("nanosleep", "clock_nanosleep", "select", "ppoll");
    private static final Set<String> RESTART_IN_FULL = Set.of("poll", "epoll_wait", "futex", "nanosleep_null");

    private record Done(String call, long rc, String errno, long start, long end) {
    }

    @Test
    void blockedCallsCarryOnWithoutEintrAndEndOnTime() throws IOException {
        Workload w = startWithEveryCallBlocked();
        int calls = Integer.parseInt(w.ready("calls"));

        long dumpStart = System.nanoTime();
        Path image = bed.dumpAndAwaitGone(w);
        long dumpEnd = System.nanoTime();
        ProcessControl.sleep(1_000); // the image waits: the sleeps that keep their time left must not count it

        long restoreStart = System.nanoTime();
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        long mark = r.log().size();
        Files.writeString(w.workdir().resolve("feed"), "hello\n");
        r.log().awaitPrefix(mark, "DONE call=read", Workload.TIMEOUT);
        long resumedBy = System.nanoTime();
        String verdict = r.log().awaitPrefix(mark, "VERDICT", Duration.ofSeconds(SECONDS + 20));

        Map<String, Done> done = new HashMap<>();
        Pattern p = Pattern.compile("^DONE call=(\\S+) rc=(-?\\d+) errno=(\\S+) start=(\\d+) end=(\\d+)");
        for (String line : r.log().linesFrom(0)) {
            Matcher m = p.matcher(line);
            if (m.find()) {
                done.put(m.group(1), new Done(m.group(1), Long.parseLong(m.group(2)), m.group(3),
                        Long.parseLong(m.group(4)), Long.parseLong(m.group(5))));
            }
        }
        StringBuilder report = new StringBuilder(verdict).append('\n');
        done.values().forEach(d -> report.append(d).append(" slept ").append((d.end() - d.start()) / 1_000_000)
                .append(" ms\n"));
        assertEquals(calls, done.size(), report.toString());
        assertTrue(verdict.startsWith("VERDICT PASS"), report.toString());
        assertEquals(6, done.get("read").rc(), report.toString());
        long want = SECONDS * 1_000_000_000L;
        for (String call : KEEP_TIME_LEFT) {
            // slept = SECONDS + the time it was frozen (from the freeze in the dump to the resume in the restore)
            long frozen = done.get(call).end() - done.get(call).start() - want;
            assertTrue(frozen >= restoreStart - dumpEnd - SLACK_NS && frozen <= resumedBy - dumpStart + SLACK_NS,
                    call + " was not frozen for the time between dump and restore:\n" + report);
        }
        // at its deadline, or at the resume when the restore came after it
        Done abs = done.get("clock_nanosleep_abs");
        long deadline = abs.start() + want;
        assertTrue(abs.end() >= deadline - SLACK_NS && abs.end() <= Math.max(deadline, resumedBy) + SLACK_NS,
                "absolute sleep missed its deadline:\n" + report);
        for (String call : RESTART_IN_FULL) {
            long end = done.get(call).end();
            assertTrue(end >= restoreStart + want - SLACK_NS && end <= resumedBy + want + SLACK_NS,
                    call + " did not restart its " + SECONDS + " s in full at the restore:\n" + report);
        }
        Cryo.await(rc).assertExit(0);
    }

    /**
     * Dumped and restored twice while blocked: after the first restore the sleeps with a time-left pointer run in
     * {@code restart_syscall}, which the second dump interrupts; they must still end without EINTR and not early
     * (the workload's verdict checks both).
     */
    @Test
    void callsDumpedASecondTimeAfterARestoreStillCarryOn() throws IOException {
        Workload w = startWithEveryCallBlocked();
        int calls = Integer.parseInt(w.ready("calls"));
        Path image = bed.dumpAndAwaitGone(w);
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        awaitAllSleeping(w.pid(), calls + 1);
        ProcessControl.sleep(500); // the restored sleepers are inside restart_syscall now

        Path again = bed.dumpAndAwaitGone(r);
        Cryo.await(rc);
        long mark = w.log().size();
        RunningCryo rc2 = bed.cryo().restoreInBackground(again);
        Workload r2 = bed.awaitRestoredRoot(rc2, w);
        Files.writeString(w.workdir().resolve("feed"), "hello\n");
        String verdict = r2.log().awaitPrefix(mark, "VERDICT", Duration.ofSeconds(SECONDS + 30));
        assertTrue(verdict.startsWith("VERDICT PASS"), verdict + "\n" + r2.log().tail(calls + 2));
        Cryo.await(rc2).assertExit(0);
    }

    /**
     * Starts {@code blocked_calls} and waits until it has started every call (a START line each) and all its threads
     * sleep in them.
     */
    private Workload startWithEveryCallBlocked() {
        Workload w = bed.workloads().start("blocked_calls", Integer.toString(SECONDS));
        int calls = Integer.parseInt(w.ready("calls"));
        w.log().awaitLine(0, l -> w.log().linesFrom(0).stream().filter(x -> x.startsWith("START ")).count() == calls,
                "every START line", Workload.TIMEOUT);
        awaitAllSleeping(w.pid(), calls + 1);
        return w;
    }

    /** Waits until {@code count} threads of {@code pid} sleep (state S). */
    private static void awaitAllSleeping(long pid, int count) {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (true) {
            int sleeping = 0;
            try (var tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
                for (Path t : tasks) {
                    String stat = Files.readString(t.resolve("stat"));
                    if (stat.substring(stat.lastIndexOf(')') + 2).startsWith("S")) {
                        sleeping++;
                    }
                }
            } catch (IOException e) {
                throw new AssertionError("cannot read the threads of " + pid, e);
            }
            if (sleeping >= count) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, sleeping + " of " + count + " threads of " + pid + " sleep");
            ProcessControl.sleep(20);
        }
    }
}
