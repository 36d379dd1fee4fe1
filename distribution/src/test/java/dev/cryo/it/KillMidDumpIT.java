package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * "Never harm the target", even when cryo itself dies: cryo SIGKILLed at random instants of {@code dump -R} (no
 * shutdown hook runs, the kernel simply detaches every tracee wherever it is) must leave every task of the tree
 * alive, untraced, not stopped, with its heap, signal masks, fds and interrupted sleeps as before — the workload
 * ({@code kill_target.c}) checks itself. A scratch mapping of cryo's may be left behind.
 *
 * <p>{@value #DEFAULT_ROUNDS} rounds by default ({@code -Dcryo.killMidDump.rounds=N} for more; the bench command
 * {@code bench/kill-mid-dump.sh} runs 50 and reports the figure): even rounds kill anywhere in the run, JVM start
 * included; odd rounds once cryo logged that the tree is frozen, within the frozen time a first, complete dump
 * reported.
 */
class KillMidDumpIT extends WithTestBed {
    private static final int DEFAULT_ROUNDS = 10;
    private static final Pattern STATS = Pattern.compile("dump: startup \\d+ ms.*frozen (\\d+) ms");

    @Test
    void targetSurvivesCryoKilledAtRandomInstantsOfADump() throws IOException {
        int rounds = Integer.getInteger("cryo.killMidDump.rounds", DEFAULT_ROUNDS);
        long seed = Long.getLong("cryo.killMidDump.seed", System.nanoTime());
        Random random = new Random(seed);
        KillTarget target = KillTarget.start(bed);
        Workload w = target.w();

        long t0 = System.nanoTime();
        CryoResult full = bed.cryo().run("-v", "dump", "-R", "-t", Long.toString(w.pid()), "-D",
                bed.newImageDir().toString());
        long totalMs = (System.nanoTime() - t0) / 1_000_000;
        full.assertOk();
        Matcher m = STATS.matcher(full.stderr());
        assertTrue(m.find(), "no dump statistics in: " + full.describe());
        long frozenMs = Long.parseLong(m.group(1));
        assertUnharmed(target, "after a complete dump -R");

        int frozenKills = 0;
        for (int round = 1; round <= rounds; round++) {
            long started = System.nanoTime();
            RunningCryo rc = bed.cryo().start("-v", "dump", "-R", "-t", Long.toString(w.pid()), "-D",
                    bed.newImageDir().toString());
            if (round % 2 == 1) {
                long deadline = started + Duration.ofSeconds(30).toNanos();
                while (!rc.snapshot().stderr().contains("froze ") && rc.isAlive() && System.nanoTime() < deadline) {
                    ProcessControl.sleep(2);
                }
            }
            long delayMs = round % 2 == 0 ? (long) (random.nextDouble() * totalMs)
                    : (System.nanoTime() - started) / 1_000_000 + (long) (random.nextDouble() * frozenMs);
            ProcessControl.sleep(Math.max(0, delayMs - (System.nanoTime() - started) / 1_000_000));
            ProcessControl.kill(rc.pid(), ProcessControl.SIGKILL);
            CryoResult r = rc.awaitExit(Duration.ofSeconds(30));
            boolean frozen = r.exit() != 0 && r.stderr().contains("froze ");
            frozenKills += frozen ? 1 : 0;
            assertUnharmed(target, "round " + round + " of " + rounds + " (seed " + seed + "): cryo killed "
                    + delayMs + " ms after its start (" + (r.exit() == 0 ? "the dump had finished"
                    : frozen ? "the tree was frozen" : "before the freeze") + ")");
        }
        assertTrue(frozenKills > 0, "no kill landed while the tree was frozen in " + rounds + " rounds (seed " + seed
                + "): the test proved nothing");
    }

    /** kill_target (256 MiB) once it passed its own check, its child (tracked) and its second thread. */
    record KillTarget(Workload w, long child, long thread) {
        static KillTarget start(TestBed bed) {
            Workload w = bed.workloads().start("kill_target", "256");
            long child = Long.parseLong(w.ready("child"));
            long thread = Long.parseLong(w.ready("thread"));
            bed.workloads().trackForeignPid(child);
            w.assertVerifyPass();
            return new KillTarget(w, child, thread);
        }
    }

    private static void assertUnharmed(KillTarget target, String when) throws IOException {
        Workload w = target.w();
        long child = target.child();
        for (long[] task : new long[][] {{w.pid(), w.pid()}, {w.pid(), target.thread()}, {child, child}}) {
            Path status = Path.of("/proc", Long.toString(task[0]), "task", Long.toString(task[1]), "status");
            String s;
            try {
                s = Files.readString(status);
            } catch (IOException e) {
                fail(when + ": task " + task[1] + " is gone; workload log ends:\n" + w.log().tail(10));
                return;
            }
            String state = field(s, "State");
            assertTrue(!state.startsWith("Z") && !state.startsWith("X"), when + ": task " + task[1] + " died ("
                    + state + "); workload log ends:\n" + w.log().tail(10));
            assertTrue(!state.startsWith("T") && !state.startsWith("t"), when + ": task " + task[1]
                    + " left stopped (" + state + ")");
            assertEquals("0", field(s, "TracerPid"), when + ": task " + task[1] + " still traced");
        }
        String v = w.verify();
        assertTrue(v.startsWith("VERDICT PASS"), when + ": " + v);
    }

    private static String field(String status, String key) {
        for (String line : status.split("\n")) {
            if (line.startsWith(key + ":")) {
                return line.substring(key.length() + 1).trim();
            }
        }
        throw new AssertionError("no " + key + " in /proc/PID/status");
    }
}
