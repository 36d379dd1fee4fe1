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
