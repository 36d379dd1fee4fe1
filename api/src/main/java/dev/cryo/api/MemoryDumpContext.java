package dev.cryo.api;

/**
 * What {@link MemoryHandler#dump} may use. Valid only during that call, on the tracer thread.
 *
 * @since 1.0.0
 */
public interface MemoryDumpContext {
    /** @return the frozen task */
    RemoteTask task();

    /** @return where page contents go */
    PageSink pages();

    /** @return where this handler's mapping records go ({@code mm-PID.img}) */
    ImageSink records();

    /** @return the effective options */
    Config config();
}
