package dev.cryo.core.linux;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The one platform thread that owns every ptrace attachment of a pipeline. ptrace is per thread: requests from
 * another thread fail with ESRCH, and when this thread ends the kernel detaches its tracees. Never a virtual thread.
 */
public final class TracerThread implements AutoCloseable {
    /** Work that runs on the tracer thread and may fail with a {@link CryoException}. */
    @FunctionalInterface
    public interface Work<T> {
        T run() throws CryoException;
    }

    private final ExecutorService executor;
    private volatile Thread thread;

    public TracerThread(String name) {
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            thread = t;
            return t;
        });
    }

    /** Runs {@code work} on the tracer thread and waits for it. */
    public <T> T call(Work<T> work) throws CryoException {
        Callable<T> c = work::run;
        return await(executor.submit(c), "the tracer");
    }

    /**
     * Waits for {@code f}, and throws what its work threw as the work would have on this thread: a
     * {@link CryoException}, runtime exception or error as it is, anything else as an INTERNAL one.
     *
     * @param waitingFor for the message when this thread is interrupted: "interrupted while waiting for ..."
     */
    public static <T> T await(Future<T> f, String waitingFor) throws CryoException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CryoException(Category.INTERNAL, "core/INTERRUPTED", "interrupted while waiting for "
                    + waitingFor);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof CryoException ce) {
                throw ce;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new CryoException(Category.INTERNAL, "core/INTERNAL", String.valueOf(cause), null, cause);
        }
    }

    /** @return whether the caller is the tracer thread */
    public boolean isCurrent() {
        return Thread.currentThread() == thread;
    }

    @Override
    public void close() {
        executor.shutdown();
    }
}
