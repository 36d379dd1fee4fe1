package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * Everything one integration test uses: its directory, the processes it started ({@link #workloads}) and the cryo
 * runner ({@link #cryo}). Create in {@code @BeforeEach}, close in {@code @AfterEach}: closing kills and reaps every
 * process the test started, restored or adopted, even after a failure.
 */
public final class TestBed implements AutoCloseable {
    private final Path root;
    private final Workloads workloads;
    private final Cryo cryo;
    private int images;

    public TestBed(Path root) {
        this.root = root;
        this.workloads = new Workloads(root.resolve("work"));
        this.cryo = Cryo.fromSystemProperty(root.resolve("cryo-output"), workloads);
    }

    public Path root() {
        return root;
    }

    public Workloads workloads() {
        return workloads;
    }

    public Cryo cryo() {
        return cryo;
    }

    /** @return a fresh image directory path that does not exist yet (dump creates it, 0700) */
    public Path newImageDir() {
        return root.resolve("images").resolve("img-" + (++images));
    }

    /**
     * Starts workload {@code name} (see {@link Workloads#start}) and waits until it runs and passes its own check
     * once: two ticks, then {@code VERDICT PASS} on SIGUSR2.
     */
    public Workload startVerified(String name, String... extraArgs) {
        Workload w = workloads.start(name, extraArgs);
        w.awaitNewTicks(2);
        w.assertVerifyPass();
        return w;
    }

    /**
     * Starts workload {@code name} (see {@link Workloads#start}) and has it check itself once right away
     * ({@code VERDICT PASS} on SIGUSR2), without waiting for ticks: for workloads that hold what they check from their
     * READY line on.
     */
    public Workload startChecked(String name, String... extraArgs) {
        Workload w = workloads.start(name, extraArgs);
        w.assertVerifyPass();
        return w;
    }

    /**
     * As {@link #startChecked} for a workload that forked a child and named it {@code child=<pid>} in its READY line:
     * the child is tracked ({@link Workloads#trackChild}) before the check, so the bed kills it even if the check
     * fails.
     */
    public Workload startCheckedWithChild(String name, String... extraArgs) {
        Workload w = workloads.start(name, extraArgs);
        workloads.trackChild(w);
        w.assertVerifyPass();
        return w;
    }

    /**
     * Dumps {@code w} (default: kill after dump), asserts success, and waits until the original is gone.
     *
     * @return the image directory
     */
    public Path dumpAndAwaitGone(Workload w, String... extra) {
        return dumpAndAwaitGone(cryo, w, extra);
    }

    /** As {@link #dumpAndAwaitGone(Workload, String...)} with another distribution or launcher. */
    public Path dumpAndAwaitGone(Cryo cryo, Workload w, String... extra) {
        Path dir = newImageDir();
        java.util.List<Long> descendants = descendantsOf(w.pid());
        cryo.dump(w.pid(), dir, extra).assertOk();
        w.awaitGone(Duration.ofSeconds(10));
        // the killed tree's other processes are reparented to this JVM (a subreaper): reap them, or their
        // zombies keep the pids a restore needs
        for (long pid : descendants) {
            assertTrue(ProcessControl.reap(pid, Duration.ofSeconds(10)), "dumped descendant " + pid + " not reaped");
        }
        // and the ones born after that look (a shell's short-lived children, zombies recorded in the image)
        for (int i = 0; i < 20; i++) {
            ProcessControl.reapOrphans();
            ProcessControl.sleep(10);
        }
        w.process().ifPresent(p -> {
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(Files.exists(dir.resolve("inventory.img")), "dump wrote no inventory.img in " + dir);
        return dir;
    }

    /**
     * Dumps {@code w} with {@code -R} (leave running), asserts success and that {@code w} still runs.
     *
     * @return the image directory
     */
    public Path dumpLeavingRunning(Workload w) {
        Path image = newImageDir();
        cryo.dump(w.pid(), image, "-R").assertOk();
        assertTrue(w.isAlive(), w + " was killed by dump -R");
        return image;
    }

    /**
     * Dumps {@code w} (killed, {@link #dumpAndAwaitGone(Workload, String...)}) and restores the image in the
     * background, without -d; waits until the original's pid runs the restored root ({@link #awaitRestoredRoot}).
     */
    public Restored dumpAndRestore(Workload w) {
        Path image = dumpAndAwaitGone(w);
        RunningCryo rc = cryo.restoreInBackground(image);
        return new Restored(awaitRestoredRoot(rc, w), rc);
    }

    /**
     * {@link #dumpAndRestore}, then has the restored root check itself ({@code VERDICT PASS} asserted) and kills it
     * ({@link #killRestored}).
     *
     * @return the restored root's verdict line
     */
    public String dumpRestoreAndVerify(Workload w) {
        Restored restored = dumpAndRestore(w);
        String verdict = restored.workload().assertVerifyPass();
        killRestored(restored.workload(), restored.cryo());
        return verdict;
    }

    /**
     * Asserts that no process runs with {@code pid} after a failed restore: neither a workload named {@code comm}
     * nor cryo's restore stub. Reaps orphans first (a failed restore may leave its stub to the subreaper).
     */
    public void assertNoProcessWithPid(long pid, String comm, CryoResult context) {
        ProcessControl.reapOrphans();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (true) {
            Optional<ProcStat> st = ProcStat.read(pid);
            boolean ours = st.isPresent() && Set.of(comm, "cryo-stub").contains(st.get().comm());
            if (!ours) {
                return;
            }
            if (System.nanoTime() > deadline) {
                assertFalse(ours, "a process is left with the dumped pid " + pid + " after a failed restore: "
                        + st.get() + "\n" + context.describe());
            }
            ProcessControl.sleep(20);
            ProcessControl.reapOrphans();
        }
    }

    /** @return the pid in {@code [low, pid_max)} counting down from the top that no process or thread uses now */
    public static long unusedPid() {
        long max;
        try {
            max = Long.parseLong(ProcStat.readProcFile(Path.of("/proc/sys/kernel/pid_max")).trim());
        } catch (IOException e) {
            max = 32768;
        }
        for (long p = max - 1; p > 300; p--) {
            if (!Files.exists(Path.of("/proc", Long.toString(p)))) {
                return p;
            }
        }
        throw new IllegalStateException("no free pid");
    }

    @Override
    public void close() {
        workloads.close();
    }

    /**
     * Restores {@code image} without -d in the background and waits until the original's pid runs a process with
     * the original's name again and has logged {@code ticks} new lines; fails at once if cryo exits.
     */
    public Workload restoreAndAwait(Workload original, Path image, int ticks, String... extra) {
        return restoreAndAwaitWithCryo(original, image, ticks, extra).workload();
    }

    /** A restored root and the {@code cryo restore} that made it (without -d, still waiting for the root to exit). */
    public record Restored(Workload workload, RunningCryo cryo) {
    }

    /** {@link #restoreAndAwait}, and @return also the running {@code cryo restore} (for its output once it ends) */
    public Restored restoreAndAwaitWithCryo(Workload original, Path image, int ticks, String... extra) {
        long mark = original.log().size();
        RunningCryo rc = cryo.restoreInBackground(image, extra);
        Workload restored = awaitRestoredRoot(rc, original);
        original.log().awaitTicks(mark, ticks, Workload.TIMEOUT);
        return new Restored(restored, rc);
    }

    /**
     * Dumps {@code w} (killed), restores it and has it check itself, then dumps and restores the restored process once
     * more (a restored process must dump as well as the original) and has it check itself again; kills it at the end.
     * The workload's verdict counts its checks ({@code verifies=N}): {@code verifies} after the first restore,
     * {@code verifies + 1} after the second.
     */
    public void dumpAndRestoreTwice(Workload w, int verifies) {
        RunningCryo rc = null;
        Workload current = w;
        for (int round = 0; round < 2; round++) {
            Path image = dumpAndAwaitGone(current);
            if (rc != null) {
                Cryo.await(rc).assertExit(128 + ProcessControl.SIGKILL);
            }
            long mark = w.log().size();
            rc = cryo.restoreInBackground(image);
            current = awaitRestoredRoot(rc, w);
            w.log().awaitTicks(mark, 2, Workload.TIMEOUT);
            String verdict = current.assertVerifyPass();
            assertTrue(verdict.contains("verifies=" + (verifies + round)),
                    "restore " + (round + 1) + ": the restored state is not the dumped one: " + verdict);
        }
        current.kill();
        Cryo.await(rc).assertExit(128 + ProcessControl.SIGKILL);
    }

    /**
     * Dumps {@code w} (killed) and restores the image as {@link #restoreAndAwaitWithCryo} does: @return the restored
     * root, once it has logged {@code ticks} new lines, and the running {@code cryo restore}
     */
    public Restored dumpRestoreAndAwait(Workload w, int ticks) {
        return restoreAndAwaitWithCryo(w, dumpAndAwaitGone(w), ticks);
    }

    /** An image dumped by {@link #timedDump} and the wall time the dump took. */
    public record TimedDump(Path image, long ms) {
    }

    /** Dumps {@code w} as {@link #dumpAndAwaitGone(Workload, String...)} does, timed (for the TIMING lines). */
    public TimedDump timedDump(Workload w, String... options) {
        long t0 = System.nanoTime();
        Path image = dumpAndAwaitGone(w, options);
        return new TimedDump(image, (System.nanoTime() - t0) / 1_000_000);
    }

    /** A restore started by {@link #startRestore}: the restored root, the running cryo, and when it started. */
    public record Restoring(Workload workload, RunningCryo cryo, long startNanos) {
        /** @return milliseconds since the restore started */
        public long elapsedMs() {
            return (System.nanoTime() - startNanos) / 1_000_000;
        }
    }

    /**
     * Restores {@code image} without -d in the background and waits until the original's pid runs a process with
     * the original's name again ({@link #awaitRestoredRoot}).
     */
    public Restoring startRestore(Path image, Workload original, String... options) {
        long t1 = System.nanoTime();
        RunningCryo rc = cryo.restoreInBackground(image, options);
        return new Restoring(awaitRestoredRoot(rc, original), rc, t1);
    }

    /**
     * As {@link #startRestore}, then tracks {@code child}, a child of the original restored with its pid (for the
     * clean-up).
     */
    public Restoring startRestoreWithChild(Path image, Workload original, long child) {
        Restoring restore = startRestore(image, original);
        workloads.trackForeignPid(child);
        return restore;
    }

    /** A check of a restored root, run by {@link #acrossDumpAndRestore}. */
    @FunctionalInterface
    public interface RestoredCheck {
        void check(Workload restored) throws Exception;
    }

    /**
     * Dumps {@code w} (killed) and restores it in the background, both with {@code options}; once cryo has let the
     * restored root go ({@link #awaitRestoreDone}) runs {@code check} on it, then kills it ({@link #killRestored}).
     */
    public void acrossDumpAndRestore(Workload w, RestoredCheck check, String... options) throws Exception {
        Path image = dumpAndAwaitGone(w, options);
        RunningCryo rc = cryo.restoreInBackground(image, options);
        Workload r = awaitRestoreDone(rc, w);
        check.check(r);
        killRestored(r, rc);
    }

    /**
     * Kills the restored root {@code r} (SIGKILL) and asserts that {@code rc}, the {@code cryo restore} waiting for
     * it, exits with the root's status, 128 + SIGKILL.
     */
    public static void killRestored(Workload r, RunningCryo rc) {
        r.kill();
        Cryo.await(rc).assertExit(128 + ProcessControl.SIGKILL);
    }

    /** Waits until the original's pid runs a process with the original's name again; fails at once if cryo exits. */
    public Workload awaitRestoredRoot(RunningCryo rc, Workload original) {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (true) {
            var st = ProcStat.read(original.pid());
            if (st.isPresent() && !st.get().isZombie() && st.get().comm().equals(original.comm())) {
                return workloads.adoptRestored(original);
            }
            if (!rc.isAlive()) {
                throw new AssertionError("cryo restore exited before " + original + " appeared: "
                        + rc.awaitExit(Duration.ofSeconds(1)).describe());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no restored " + original + " within " + Workload.TIMEOUT.toSeconds()
                        + " s: " + rc.snapshot().describe());
            }
            ProcessControl.sleep(10);
        }
    }


    /**
     * As {@link #awaitRestoredRoot}, then until cryo has let the root go (TracerPid 0, which it reaches once every
     * process is rebuilt): a restored server listens again only then, while its pid exists from the start.
     */
    public Workload awaitRestoreDone(RunningCryo rc, Workload original) {
        Workload r = awaitRestoredRoot(rc, original);
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        Path status = Path.of("/proc", Long.toString(original.pid()), "status");
        while (!untraced(status)) {
            if (!rc.isAlive()) {
                throw new AssertionError("cryo restore exited before it let " + original + " go: "
                        + rc.awaitExit(Duration.ofSeconds(1)).describe());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("cryo restore did not let " + original + " go within "
                        + Workload.TIMEOUT.toSeconds() + " s: " + rc.snapshot().describe());
            }
            ProcessControl.sleep(10);
        }
        return r;
    }

    /** @return every descendant of {@code pid} now (children of all its threads, recursively) */
    public static java.util.List<Long> descendantsOf(long pid) {
        java.util.List<Long> out = new java.util.ArrayList<>();
        java.util.ArrayDeque<Long> todo = new java.util.ArrayDeque<>(java.util.List.of(pid));
        while (!todo.isEmpty()) {
            long p = todo.poll();
            try (var tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(p), "task"))) {
                for (Path t : tasks) {
                    for (String c : readProc(t.resolve("children")).trim().split("\\s+")) {
                        if (!c.isEmpty()) {
                            out.add(Long.parseLong(c));
                            todo.add(Long.parseLong(c));
                        }
                    }
                }
            } catch (java.io.IOException e) {
                // gone meanwhile
            }
        }
        return out;
    }

    /**
     * @return whether {@code pid} exists, is no zombie and no tracer holds it: a restore let it go (the resume
     *         detaches children first, so a released root means a released tree)
     */
    public static boolean released(long pid) {
        return ProcStat.read(pid).filter(s -> !s.isZombie()).isPresent()
                && untraced(Path.of("/proc", Long.toString(pid), "status"));
    }

    private static boolean untraced(Path status) {
        try {
            return readProc(status).contains("\nTracerPid:\t0\n");
        } catch (IOException e) {
            return false;
        }
    }

    private static String readProc(Path p) throws java.io.IOException {
        try (var in = Files.newInputStream(p)) {
            return new String(in.readAllBytes());
        }
    }
}
