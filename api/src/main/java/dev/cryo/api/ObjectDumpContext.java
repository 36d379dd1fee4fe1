package dev.cryo.api;

/**
 * What {@link FdHandler#dumpObjects} may use. Valid only during that call, on the tracer thread.
 *
 * @since 1.0.0
 */
public interface ObjectDumpContext {
    /** @return the sink of this kind's object table ({@code <kind>.img}) */
    ImageSink objects();

    /** @return the effective options */
    Config config();

    /**
     * @return the host view (who holds an object outside the tree, the host's sockets)
     * @since 1.1.0
     */
    default HostKernel kernel() {
        throw new UnsupportedOperationException("this core offers no HostKernel here");
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
