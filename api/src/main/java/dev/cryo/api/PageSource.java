package dev.cryo.api;

/**
 * The raw pages file of one process during restore.
 *
 * @since 1.0.0
 */
public interface PageSource {
    /**
     * Writes {@code length} bytes stored at {@code offset} of the pages file into the task at {@code address}
     * (which must be mapped writable), in large batches.
     *
     * @throws CryoException IMAGE when the pages file is shorter than expected (truncated image)
     */
    void load(long address, long length, long offset) throws CryoException;
}
