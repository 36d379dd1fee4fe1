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
}
