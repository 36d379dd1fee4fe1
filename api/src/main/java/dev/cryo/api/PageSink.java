package dev.cryo.api;

/**
 * The raw pages file of one process during dump. Ranges are read from the task with process_vm_readv in large
 * batches into direct buffers and streamed to the file (pages the task itself cannot read, without PROT_READ, are
 * read through {@code /proc/PID/mem}, which the tracer may read whatever the protection); a plugin calls {@link #save} per contiguous run of
 * pages it wants kept and records the returned offset.
 *
 * @since 1.0.0
 */
public interface PageSink {
    /**
     * Queues the page-aligned range {@code [address, address + length)} of the task's memory for saving.
     * The data is read before the SPI call returns or at the latest before the process is resumed.
     *
     * @return the byte offset at which the range is stored in {@link #fileName()}
     */
    long save(long address, long length) throws CryoException;

    /** @return the image file name the pages go to, e.g. {@code pages-1234.img} */
    String fileName();
}
