package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Processes stopped by job control (SIGSTOP) and {@code dump -s}: a stopped process is dumped and comes back stopped
 * (every thread in state T, untraced) and runs on after SIGCONT; a running one next to it comes back running;
 * {@code dump -s} and {@code dump -R} of a stopped process leave the tree stopped, untraced, with exactly the
 * mappings it had (no scratch area of cryo's), and SIGCONT resumes it correctly.
 */
class StoppedIT extends WithTestBed {
    private static final Duration STATE_WAIT = Duration.ofSeconds(10);

    @Test
    void stoppedMultiThreadedProcessIsRestoredStopped() throws IOException {
        Workload w = bed.workloads().start("with_thread");
        w.assertVerifyPass();
        w.signal(ProcessControl.SIGSTOP);
        w.awaitState('T', STATE_WAIT);

        Path image = bed.dumpAndAwaitGone(w);
        bed.cryo().restore(image, "-d").assertOk();
        Workload r = bed.workloads().adoptRestored(w);
        assertStoppedUntraced(r);
        assertRunsOnAfterSigcont(w, r);
    }

    @Test
    void stoppedChildOfARunningParentStaysStoppedAlone() throws IOException {
        Workload w = bed.workloads().start("with_child");
        long child = bed.workloads().trackChild(w);
        ProcessControl.kill(child, ProcessControl.SIGSTOP);
        awaitState(child, 'T');

        Path image = bed.dumpAndAwaitGone(w);
        Workload r = bed.restoreAndAwait(w, image, 2);
        bed.workloads().trackForeignPid(child);
        assertEquals('T', ProcStat.read(child).orElseThrow().state(), "state of the restored stopped child");
        assertEquals("0", status(child).get("TracerPid"), "TracerPid of the restored child");
        r.assertVerifyPass();
        assertTrue(ProcStat.read(w.pid()).orElseThrow().state() != 'T', "the running parent came back stopped");

        ProcessControl.kill(child, ProcessControl.SIGCONT);
        awaitNotStopped(child);
        r.assertVerifyPass();
    }

    @Test
    void leaveStoppedLeavesASingleProcessStoppedUntracedAndClean() throws IOException {
        Workload w = bed.workloads().start("with_thread");
        w.assertVerifyPass();
        assertDumpLeavesStoppedAndClean(w, "-s", "mappings after dump -s (cryo's scratch area must be gone)");
    }

    @Test
    void leaveStoppedLeavesATreeStoppedUntracedAndClean() throws IOException {
        Workload w = bed.workloads().start("with_child");
        long child = bed.workloads().trackChild(w);
        w.assertVerifyPass();
        String parentMaps = maps(w.pid());
        String childMaps = maps(child);

        bed.cryo().dump(w.pid(), bed.newImageDir(), "--leave-stopped").assertOk();
        for (long pid : List.of(w.pid(), child)) {
            awaitState(pid, 'T');
            assertEquals("0", status(pid).get("TracerPid"), "TracerPid of " + pid + " after dump -s");
        }
        assertEquals(parentMaps, maps(w.pid()), "parent's mappings after dump -s");
        assertEquals(childMaps, maps(child), "child's mappings after dump -s");

        long mark = w.log().size();
        ProcessControl.kill(child, ProcessControl.SIGCONT);
        w.signal(ProcessControl.SIGCONT);
        w.log().awaitTicks(mark, 2, Workload.TIMEOUT);
        awaitNotStopped(child);
        w.assertVerifyPass();
    }

    @Test
    void leaveRunningOfAStoppedProcessLeavesItStopped() throws IOException {
        Workload w = bed.workloads().start("with_thread");
        w.signal(ProcessControl.SIGSTOP);
        w.awaitState('T', STATE_WAIT);
        assertDumpLeavesStoppedAndClean(w, "-R", "mappings after dump -R of a stopped process");
    }

    /**
     * Dumps {@code w} with {@code flag} (it stays behind), asserts it is left stopped, untraced and with the mappings
     * it had ({@code what} names them), then that it runs on after SIGCONT.
     */
    private void assertDumpLeavesStoppedAndClean(Workload w, String flag, String what) throws IOException {
        String maps = maps(w.pid());
        bed.cryo().dump(w.pid(), bed.newImageDir(), flag).assertOk();
        assertStoppedUntraced(w);
        assertEquals(maps, maps(w.pid()), what);
        assertRunsOnAfterSigcont(w, w);
    }

    /** Sends SIGCONT to {@code r} (the process writing {@code w}'s log): two more ticks, then a passing verify. */
    private static void assertRunsOnAfterSigcont(Workload w, Workload r) throws IOException {
        long mark = w.log().size();
        r.signal(ProcessControl.SIGCONT);
        w.log().awaitTicks(mark, 2, Workload.TIMEOUT);
        r.assertVerifyPass();
    }

    /** Every thread of {@code w} in state T and TracerPid 0. */
    private static void assertStoppedUntraced(Workload w) throws IOException {
        w.awaitState('T', STATE_WAIT);
        assertEquals("0", status(w.pid()).get("TracerPid"), "TracerPid of " + w);
        Map<String, Character> states = new TreeMap<>();
        long deadline = System.nanoTime() + STATE_WAIT.toNanos();
        while (true) {
            states.clear();
            try (var tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(w.pid()), "task"))) {
                for (Path t : tasks) {
                    String stat = ProcStat.readProcFile(t.resolve("stat"));
                    states.put(t.getFileName().toString(), stat.charAt(stat.lastIndexOf(')') + 2));
                }
            }
            if (states.values().stream().allMatch(c -> c == 'T') || System.nanoTime() > deadline) {
                break;
            }
            ProcessControl.sleep(10);
        }
        assertTrue(states.size() > 1 && states.values().stream().allMatch(c -> c == 'T'),
                "thread states of " + w + ": " + states);
    }

    private static void awaitState(long pid, char state) {
        long deadline = System.nanoTime() + STATE_WAIT.toNanos();
        while (ProcStat.read(pid).map(ProcStat::state).orElse('?') != state) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("pid " + pid + " is " + ProcStat.read(pid) + ", expected state " + state);
            }
            ProcessControl.sleep(10);
        }
    }

    private static void awaitNotStopped(long pid) {
        long deadline = System.nanoTime() + STATE_WAIT.toNanos();
        while (ProcStat.read(pid).map(ProcStat::state).orElse('?') == 'T') {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("pid " + pid + " still stopped after SIGCONT");
            }
            ProcessControl.sleep(10);
        }
    }

    private static Map<String, String> status(long pid) throws IOException {
        Map<String, String> m = new TreeMap<>();
        for (String line : ProcStat.readProcFile(Path.of("/proc", Long.toString(pid), "status")).split("\n")) {
            int c = line.indexOf(':');
            if (c > 0) {
                m.put(line.substring(0, c), line.substring(c + 1).trim());
            }
        }
        return m;
    }

    private static String maps(long pid) throws IOException {
        List<String> lines = new ArrayList<>(List.of(ProcStat.readProcFile(
                Path.of("/proc", Long.toString(pid), "maps")).split("\n")));
        return String.join("\n", lines);
    }
}
