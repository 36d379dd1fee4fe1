package dev.cryo.api;

/**
 * What {@link FdHandler#collect} may use. Valid only during that call, on the tracer thread.
 *
 * @since 1.0.0
 */
public interface FdDumpContext {
    /** @return the frozen task holding the fd */
    RemoteTask task();

    /** @return the effective options */
    Config config();

    /**
     * Declares that this fd gives the tree a hold on {@code object} (e.g. one end of pipe ino 123).
     * Called by the handler as often as it likes; idempotent.
     */
    void holds(ObjectId object);

    /**
     * Declares that {@code from} needs {@code to} to make sense (a pipe end needs the other end, a socket its
     * peer). After all processes are collected core checks that every referenced object is held by the tree;
     * an unresolved one goes to the {@link ExternalPeerHandler}s and, if none accepts it, the dump is refused.
     *
     * @param description identity of the peer for messages, e.g. {@code /run/app.sock (pid 77 "syslogd")}
     */
    void references(ObjectId from, ObjectId to, String description);

    /**
     * As {@link #references(ObjectId, ObjectId, String)}, with the description made only if a message needs it: core
     * asks for it only for a reference to an object the tree does not hold (before offering it to the
     * {@link ExternalPeerHandler}s), so a handler may name the peer's holder there — a scan of the host's processes
     * ({@link HostKernel#holders}) — without every dump paying for that scan. The supplier runs at most once, on the
     * tracer thread, after every process's fds are collected; an exception it throws is a bug in the handler (the
     * dump fails as {@code INTERNAL}).
     *
     * @since 1.5.0
     */
    default void references(ObjectId from, ObjectId to, java.util.function.Supplier<String> description) {
        references(from, to, description.get());
    }

    /**
     * @return kernel queries run from cryo's own process (sock_diag...)
     * @since 1.0.0
     */
    default HostKernel kernel() {
        throw new UnsupportedOperationException("this core offers no HostKernel");
    }

    /**
     * @return {@code true} during {@code cryo check -t PID}: a dry run on the live tree that looks for every reason
     *         a dump would be refused. The handler refuses exactly as in a dump (throw the {@link CryoException} a
     *         dump would throw: core records it and goes on with the next fd, process or handler) but changes
     *         nothing lasting in the tree or on the host (no network lock, no repair mode, nothing the tree would
     *         see). What it writes to its sinks is discarded; pages are counted, not read.
     * @since 1.1.0
     */
    default boolean dryRun() {
        return false;
    }
}
