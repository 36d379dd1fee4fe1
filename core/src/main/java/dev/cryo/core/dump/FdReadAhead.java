package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdInfo;
import dev.cryo.core.linux.HostView;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.NativeMemory;
import dev.cryo.core.linux.Sys;

import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Reads the {@link FdInfo}s of one process's fds on a second thread while the tracer works through them in order
 * (issue 13): the three system calls of an fd ({@link FdInfos#readUnresolved}) are about half of what an fd costs
 * while the tree is frozen, and the other processor is idle then. The helper also asks each fd's owner
 * ({@link FdOwners#readRaw}: {@code pidfd_getfd} and two {@code fcntl}, ~40% of the tracer's time per fd before);
 * an owner it could not read is left to the tracer, which asks again and reports the failure itself. The tree is
 * frozen, so an fd read on either thread is the same; the tracer never waits for an fd the helper has not started: it
 * reads that one itself.
 *
 * <p>Each fd is read once, by whichever thread claims it first ({@code FREE} to {@code HELPER} or {@code TRACER}).
 * A failure on the helper is kept and thrown to the tracer when it comes to that fd, as if it had read it itself.
 * Used by one tracer thread; {@link #close} stops the helper at its next fd (it touches nothing but this object).
 */
final class FdReadAhead implements AutoCloseable {
    /** Below this many fds the helper's hand-over costs more than it saves. */
    static final int MIN_FDS = 64;

    private static final int FREE = 0;
    private static final int HELPER = 1;
    private static final int HELPER_DONE = 2;
    private static final int TRACER = 3;

    private final int pid;
    private final int[] fds;
    private final AtomicIntegerArray state;
    private final FdInfo[] read;
    /** The owner of each fd as the helper read it; null when it did not (the tracer asks). */
    private final FdOwners.Raw[] owners;
    /** What reading an fd threw on the helper (a CryoException or a RuntimeException), thrown again to the tracer. */
    private final Exception[] failed;
    private volatile boolean closed;

    private FdReadAhead(int pid, List<Integer> fds) {
        this.pid = pid;
        this.fds = new int[fds.size()];
        for (int i = 0; i < this.fds.length; i++) { // no stream of lambdas: the tree is frozen (issue 13)
            this.fds[i] = fds.get(i);
        }
        this.state = new AtomicIntegerArray(this.fds.length);
        this.read = new FdInfo[this.fds.length];
        this.owners = new FdOwners.Raw[this.fds.length];
        this.failed = new Exception[this.fds.length];
    }

    /**
     * Starts reading {@code fds} of {@code pid} on {@code helper} (when they are enough to be worth it).
     *
     * @param host the view whose instance the helper's {@link FdInfos} gets (it does not read its socket tables)
     */
    static FdReadAhead start(int pid, List<Integer> fds, HostView host, Executor helper) {
        FdReadAhead r = new FdReadAhead(pid, fds);
        if (r.fds.length >= MIN_FDS && Runtime.getRuntime().availableProcessors() > 1) {
            helper.execute(new Runnable() { // not a lambda: it would be made at run time (not in the archive)
                @Override
                public void run() {
                    r.readAhead(new FdInfos(host));
                }
            });
        }
        return r;
    }

    private void readAhead(FdInfos infos) {
        long pidfd = LibC.INSTANCE.syscall(Sys.PIDFD_OPEN, pid, 0, 0, 0, 0, 0);
        NativeMemory ownerEx = NativeMemory.allocate(8);
        try {
            for (int i = 0; i < fds.length && !closed; i++) {
                if (!state.compareAndSet(i, FREE, HELPER)) {
                    continue;
                }
                try {
                    read[i] = infos.readUnresolved(pid, fds[i]);
                    if (pidfd >= 0 && FdOwners.hasOwner(read[i])) {
                        owners[i] = FdOwners.readRaw((int) pidfd, pid, fds[i], ownerEx);
                    }
                } catch (CryoException | RuntimeException e) {
                    if (read[i] == null) {
                        failed[i] = e;
                    } // else: only the owner failed; the tracer asks it again and reports it
                }
                state.set(i, HELPER_DONE); // publishes read[i] / owners[i] / failed[i]
            }
        } finally {
            if (pidfd >= 0) {
                LibC.INSTANCE.close((int) pidfd);
            }
        }
    }

    /**
     * @param i the index of an fd {@link #get} returned
     * @return its owner as the helper read it, or null when the helper did not (the tracer then asks)
     */
    FdOwners.Raw owner(int i) {
        return state.get(i) == HELPER_DONE ? owners[i] : null;
    }

    /**
     * @param i     the index of the fd in the list given to {@link #start}, taken in ascending order
     * @param infos the tracer's own reader (it adds the socket family)
     * @return the fd's {@link FdInfo}, as {@link FdInfos#read} returns it
     * @throws CryoException as {@link FdInfos#read} would have
     */
    FdInfo get(int i, FdInfos infos) throws CryoException {
        if (state.compareAndSet(i, FREE, TRACER)) {
            return infos.read(pid, fds[i]);
        }
        for (int spins = 0; state.get(i) == HELPER; spins++) {
            if (spins < 1000) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        if (failed[i] instanceof CryoException e) {
            throw e;
        }
        if (failed[i] instanceof RuntimeException e) {
            throw e;
        }
        return infos.withSocketFamily(pid, read[i]);
    }

    @Override
    public void close() {
        closed = true;
    }
}
