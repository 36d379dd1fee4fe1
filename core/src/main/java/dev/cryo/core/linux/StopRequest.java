package dev.cryo.core.linux;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Lets a pipeline stop cleanly when cryo is asked to exit (Ctrl-C, SIGTERM): a JVM shutdown hook raises the flag
 * and waits a little while the tracer thread, at its next injection or page batch, throws and runs its normal
 * failure path — a dump releases the tree unchanged, a restore kills what it created. Without this the kernel would
 * detach the tracees mid-way, leaving them with every signal blocked and cryo's scratch mapping.
 */
public final class StopRequest {
    private static final AtomicBoolean REQUESTED = new AtomicBoolean();

    private StopRequest() {
    }

    /** @throws CryoException when cryo was asked to stop */
    public static void check() throws CryoException {
        if (REQUESTED.get()) {
            throw new CryoException(Category.CONFLICT, "core/INTERRUPTED", "cryo was asked to stop (signal) and"
                    + " abandoned the operation");
        }
    }

    /**
     * Runs {@code work}; a shutdown meanwhile raises the stop flag and waits up to {@code graceSeconds} for it to
     * unwind.
     */
    public static <T> T guard(TracerThread.Work<T> work, int graceSeconds) throws CryoException {
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            REQUESTED.set(true);
            try {
                done.await(graceSeconds, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "cryo-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return work.run();
        } finally {
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it returns now that the latch is down
            }
        }
    }
}
