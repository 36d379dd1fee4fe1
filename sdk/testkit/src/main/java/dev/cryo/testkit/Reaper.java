package dev.cryo.testkit;

import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Out;

import java.time.Duration;

/**
 * The three libc calls the kit needs (jnr-ffi): making the test JVM a child subreaper, signalling and reaping. Public
 * so that other tests of process trees (cryo's own integration tests) share them; a plugin's tests need not call it,
 * the kit does.
 *
 * <p>Why: a dump kills the tree; the root is the JVM's own child (the JDK reaps it), but its descendants are
 * reparented to the nearest subreaper — without one, to init, which in a container may never reap them, and a
 * zombie keeps the pid the restore needs. The JDK reaps only the processes it started, so this class waits only
 * for pids it is given, never {@code waitpid(-1)}.
 */
public final class Reaper {
    static final int SIGKILL = 9;
    private static final int PR_SET_CHILD_SUBREAPER = 36;
    private static final int WNOHANG = 1;
    private static final int ESRCH = 3;
    private static final int ECHILD = 10;

    /** libc, as much of it as the kit calls. */
    public interface LibC {
        int prctl(int option, long arg2, long arg3, long arg4, long arg5);

        int kill(int pid, int sig);

        int waitpid(int pid, @Out int[] status, int options);
    }

    private static LibC libc;
    private static Runtime runtime;
    private static boolean subreaper;

    private Reaper() {
    }

    private static synchronized LibC libc() {
        if (libc == null) {
            libc = LibraryLoader.create(LibC.class).load("c");
            runtime = Runtime.getRuntime(libc);
        }
        return libc;
    }

    /** Makes this JVM a child subreaper, once. */
    public static synchronized void becomeSubreaper() {
        if (subreaper) {
            return;
        }
        if (libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
            throw new IllegalStateException("prctl(PR_SET_CHILD_SUBREAPER) failed: errno "
                    + LastError.getLastError(runtime));
        }
        subreaper = true;
    }

    /**
     * Sends signal {@code sig} to {@code pid}.
     *
     * @return true if delivered, false if there is no such process
     */
    public static boolean kill(long pid, int sig) {
        if (libc().kill((int) pid, sig) == 0) {
            return true;
        }
        int errno = LastError.getLastError(runtime);
        if (errno == ESRCH) {
            return false;
        }
        throw new IllegalStateException("kill(" + pid + ", " + sig + ") failed: errno " + errno);
    }

    /**
     * Waits until {@code pid} (a child of this JVM the JDK did not start) is reaped, or is no child of ours.
     *
     * @return false when it still runs after {@code timeout}
     */
    public static boolean reap(long pid, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int[] status = new int[1];
        while (true) {
            int r = libc().waitpid((int) pid, status, WNOHANG);
            if (r == pid || (r < 0 && LastError.getLastError(runtime) == ECHILD)) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            sleep(5);
        }
    }

    /**
     * Reaps {@code pid} (a child of this JVM the JDK did not start) if it has exited, without waiting.
     *
     * @return true if reaped now, or if it is no child of ours (any more)
     */
    public static boolean reapIfExited(long pid) {
        int[] status = new int[1];
        int r = libc().waitpid((int) pid, status, WNOHANG);
        return r == pid || (r < 0 && LastError.getLastError(runtime) == ECHILD);
    }

    /**
     * The pause of a polling loop: sleeps {@code millis}; an interrupt keeps the thread's flag set and fails with
     * {@link IllegalStateException}.
     */
    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
