package dev.cryo.api;

/**
 * What {@link MemoryHandler#restore} may use. Valid only during that call, on the tracer thread.
 *
 * @since 1.0.0
 */
public interface MemoryRestoreContext {
    /** @return the stopped process being rebuilt; its scratch area lies outside every dumped mapping */
    RemoteTask task();

    /** @return page contents saved at dump */
    PageSource pages();

    /** @return this handler's records of this process */
    ImageSource records();

    /** @return the effective options of the restore */
    Config config();
}
