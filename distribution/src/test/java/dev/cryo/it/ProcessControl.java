package dev.cryo.it;

import dev.cryo.testkit.Reaper;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The few raw process calls the integration tests need (the test kit's {@link Reaper}, jnr-ffi over libc): making the
 * test JVM a child subreaper, signalling and reaping processes the JDK does not manage.
 *
 * <p>Why: a tree restored with {@code -d}, or a helper that double-forked, is reparented to the nearest subreaper;
 * if nobody reaps it, its zombie keeps the pid and the next restore of that image fails. The JDK reaps only the
 * processes it started (by pid), so this class never calls {@code waitpid(-1)}: {@link #reapOrphans()} reaps
 * zombie children that are not {@link #registerJdkChild(Process) registered} JDK children.
 *
 * <p>Thread-safe; the subreaper flag is set once per JVM on first use.
 */
public final class ProcessControl {
    public static final int SIGKILL = 9;
    public static final int SIGUSR1 = 10;
    public static final int SIGUSR2 = 12;
    public static final int SIGALRM = 14;
    public static final int SIGTERM = 15;
    public static final int SIGCONT = 18;
    public static final int SIGSTOP = 19;

    private static final Set<Long> JDK_CHILDREN = ConcurrentHashMap.newKeySet();

    private ProcessControl() {
    }

    /** Makes this JVM a child subreaper (once); fails the test run if the kernel refuses. */
    public static void ensureSubreaper() {
        Reaper.becomeSubreaper();
    }

    /** @return this JVM's pid */
    public static long selfPid() {
        return ProcessHandle.current().pid();
    }

    /** Records a process the JDK started (and will reap itself), so {@link #reapOrphans()} leaves it alone. */
    public static Process registerJdkChild(Process p) {
        long pid = p.pid();
        JDK_CHILDREN.add(pid);
        p.onExit().thenRun(() -> JDK_CHILDREN.remove(pid));
        return p;
    }

    /**
     * Sends a signal without any identity check; prefer {@link Workload#signal(int)}.
     *
     * @return true if delivered, false if no such process
     */
    public static boolean kill(long pid, int sig) {
        return Reaper.kill(pid, sig);
    }

    /**
     * Reaps {@code pid} if it is a zombie child of this JVM that the JDK does not manage.
     *
     * @return true if reaped now, or if it is not (or no longer) our child
     */
    public static boolean reapIfExited(long pid) {
        if (JDK_CHILDREN.contains(pid)) {
            return false;
        }
        return Reaper.reapIfExited(pid);
    }

    /** Waits (polling) until {@link #reapIfExited(long)} succeeds or the timeout passes. */
    public static boolean reap(long pid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (reapIfExited(pid)) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            sleep(10);
        }
    }

    /** Reaps every zombie child of this JVM that the JDK did not start (restored roots, orphaned helpers). */
    public static void reapOrphans() {
        long self = selfPid();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : proc) {
                long pid = Long.parseLong(p.getFileName().toString());
                ProcStat.read(pid).ifPresent(st -> {
                    if (st.ppid() == self && st.isZombie() && !JDK_CHILDREN.contains(pid)) {
                        reapIfExited(pid);
                    }
                });
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
    }

    /**
     * SIGKILLs every live child of this JVM the JDK did not start, then reaps them: leftovers of a failed test
     * (a restored root whose cryo was killed, a detached restore nobody adopted). Only call from cleanup: the test
     * JVM's only such children are processes the tests created.
     */
    public static void killOrphans(Duration timeout) {
        long self = selfPid();
        java.util.List<Long> killed = new java.util.ArrayList<>();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : proc) {
                long pid = Long.parseLong(p.getFileName().toString());
                ProcStat.read(pid).ifPresent(st -> {
                    if (st.ppid() == self && !JDK_CHILDREN.contains(pid)) {
                        kill(pid, SIGKILL);
                        killed.add(pid);
                    }
                });
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        for (long pid : killed) {
            reap(pid, timeout);
        }
    }

    /** Kills a JDK-started client process and waits for it. */
    static void destroyAndWait(Process p) {
        p.destroyForcibly();
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void sleep(long ms) {
        Reaper.sleep(ms);
    }
}
