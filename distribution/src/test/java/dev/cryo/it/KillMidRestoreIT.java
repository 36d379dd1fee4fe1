package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * cryo SIGKILLed at random instants of {@code restore -d}: nothing half-restored keeps running (every task it
 * created is traced with PTRACE_O_EXITKILL until it resumes, the restore stub dies with it: PR_SET_PDEATHSIG), the
 * dumped pids are free again within seconds, and the next restore of the same image succeeds and passes the
 * workload's own check. The test JVM is a child subreaper: the orphans of a killed cryo come back to it and are
 * reaped here, as init or a service manager reaps them outside a test.
 */
class KillMidRestoreIT extends WithTestBed {
    private static final int DEFAULT_ROUNDS = 6;

    @Test
    void nothingHalfRestoredSurvivesAKilledRestoreAndTheNextRestoreWorks() {
        int rounds = Integer.getInteger("cryo.killMidRestore.rounds", DEFAULT_ROUNDS);
        long seed = Long.getLong("cryo.killMidRestore.seed", System.nanoTime());
        Random random = new Random(seed);
        KillMidDumpIT.KillTarget target = KillMidDumpIT.KillTarget.start(bed);
        Workload w = target.w();
        Path image = bed.dumpAndAwaitGone(w);
        assertTrue(ProcessControl.reap(target.child(), Duration.ofSeconds(10))
                || ProcStat.read(target.child()).isEmpty(), "the dumped child " + target.child() + " was not reaped");

        // a complete restore: how long it takes, and that the image is good
        long t0 = System.nanoTime();
        bed.cryo().restore(image, "-d", "--skip-file-size-check").assertOk();
        long totalMs = (System.nanoTime() - t0) / 1_000_000;
        Workload r = bed.workloads().adoptRestored(w);
        r.assertVerifyPass();
        killRestored(r, target.child());

        int halfRestored = 0;
        for (int round = 1; round <= rounds; round++) {
            long started = System.nanoTime();
            RunningCryo rc = bed.cryo().start("restore", "-d", "--skip-file-size-check", "-D", image.toString());
            long delayMs;
            if (round % 2 == 1) {
                // once the root exists again: cryo is rebuilding the tree
                long deadline = started + Duration.ofSeconds(30).toNanos();
                while (ProcStat.read(w.pid()).filter(s -> !s.isZombie()).isEmpty() && rc.isAlive()
                        && System.nanoTime() < deadline) {
                    ProcessControl.sleep(1);
                }
                delayMs = (long) (random.nextDouble() * totalMs / 4);
                ProcessControl.sleep(delayMs);
                delayMs += (System.nanoTime() - started) / 1_000_000;
            } else {
                delayMs = (long) (random.nextDouble() * totalMs);
                ProcessControl.sleep(delayMs);
            }
            boolean rootExists = ProcStat.read(w.pid()).filter(s -> !s.isZombie()).isPresent();
            ProcessControl.kill(rc.pid(), ProcessControl.SIGKILL);
            CryoResult res = rc.awaitExit(Duration.ofSeconds(30));
            String when = "round " + round + " of " + rounds + " (seed " + seed + "): cryo killed " + delayMs
                    + " ms into a restore of " + totalMs + " ms";
            if (res.exit() == 0 || resumedBeforeTheKill(w)) {
                // finished before the kill, or killed after the resume (while it wrote its statistics or exited):
                // a complete restore, which must work
                Workload done = bed.workloads().adoptRestored(w);
                done.assertVerifyPass();
                killRestored(done, target.child());
                continue;
            }
            halfRestored += rootExists ? 1 : 0;
            for (long pid : List.of(w.pid(), target.child(), target.thread())) {
                awaitFree(pid, when);
            }
            awaitNoStub(when);
        }

        assertTrue(halfRestored > 0, "no kill landed while the tree was being rebuilt (seed " + seed + ")");
        bed.cryo().restore(image, "-d", "--skip-file-size-check").assertOk();
        Workload last = bed.workloads().adoptRestored(w);
        last.awaitNewTicks(2);
        last.assertVerifyPass();
    }

    /**
     * @return whether the restore had resumed the tree when cryo was killed (while it wrote its statistics or
     *         exited): the root is untraced and named as dumped, and still so after the tasks cryo held were killed
     *         (PTRACE_O_EXITKILL acts as cryo exits; a task may look untraced for a moment while it dies)
     */
    private static boolean resumedBeforeTheKill(Workload w) {
        for (int i = 0; i < 2; i++) {
            if (!TestBed.released(w.pid())
                    || !ProcStat.read(w.pid()).map(ProcStat::comm).filter(w.comm()::equals).isPresent()) {
                return false;
            }
            ProcessControl.sleep(300);
        }
        return true;
    }

    private static void killRestored(Workload r, long child) {
        r.kill();
        ProcessControl.kill(child, ProcessControl.SIGKILL);
        awaitFree(r.pid(), "after killing a restored tree");
        awaitFree(child, "after killing a restored tree");
    }

    /** Waits until no kill_target (or restore stub) holds {@code pid}, reaping the orphans that come to this JVM. */
    private static void awaitFree(long pid, String when) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            ProcessControl.reapOrphans();
            Optional<ProcStat> st = ProcStat.read(pid);
            if (st.isEmpty() || !Set.of("kill_target", "cryo-stub").contains(st.get().comm())) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, when + ": pid " + pid + " still held after 10 s: " + st.get());
            ProcessControl.sleep(20);
        }
    }

    /** Waits until no restore stub is left among this JVM's descendants (orphans come to the subreaper). */
    private static void awaitNoStub(String when) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            ProcessControl.reapOrphans();
            Optional<Long> stub = TestBed.descendantsOf(ProcessControl.selfPid()).stream()
                    .filter(p -> ProcStat.read(p).filter(s -> s.comm().equals("cryo-stub") && !s.isZombie())
                            .isPresent()).findFirst();
            if (stub.isEmpty()) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, when + ": the restore stub " + stub.get() + " still runs");
            ProcessControl.sleep(20);
        }
    }
}
