package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.PageSource;
import dev.cryo.core.image.PageBuffers;
import dev.cryo.core.image.PagesReader;
import dev.cryo.core.linux.Tracee;

import java.nio.ByteBuffer;

/**
 * {@link PageSource} that streams page data from the pages file into the task in large chunks: one read of the
 * file into a direct buffer, one process_vm_writev per chunk.
 */
final class PageLoader implements PageSource {
    private static final int CHUNK = PageBuffers.MAX_BYTES;

    private final Tracee tracee;
    private final PagesReader reader;
    private final PageBuffers buffers;
    private long loadedBytes;

    /** @param buffers one slot, shared by the loaders of one restore */
    PageLoader(Tracee tracee, PagesReader reader, PageBuffers buffers) {
        this.tracee = tracee;
        this.reader = reader;
        this.buffers = buffers;
    }

    @Override
    public void load(long address, long length, long offset) throws CryoException {
        long done = 0;
        while (done < length) {
            int n = (int) Math.min(CHUNK, length - done);
            ByteBuffer buffer = buffers.get(0, n);
            buffer.limit(n);
            reader.read(offset + done, buffer);
            buffer.flip();
            tracee.writeFully(address + done, buffer, "pages");
            done += n;
        }
        loadedBytes += length;
    }

    long loadedBytes() {
        return loadedBytes;
    }
}
