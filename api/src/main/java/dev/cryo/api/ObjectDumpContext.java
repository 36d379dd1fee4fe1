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
}
