package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.PageSource;
import dev.cryo.core.image.PagesReader;
import dev.cryo.core.linux.Tracee;

import java.nio.ByteBuffer;

/**
 * {@link PageSource} that streams page data from the pages file into the task in large chunks: one read of the
 * file into a direct buffer, one process_vm_writev per chunk.
 */
final class PageLoader implements PageSource {
    private static final int CHUNK = 32 << 20;

    private final Tracee tracee;
    private final PagesReader reader;
    private ByteBuffer buffer;
    private long loadedBytes;

    PageLoader(Tracee tracee, PagesReader reader) {
        this.tracee = tracee;
        this.reader = reader;
    }

    @Override
    public void load(long address, long length, long offset) throws CryoException {
        if (buffer == null) {
            buffer = ByteBuffer.allocateDirect(CHUNK);
        }
        long done = 0;
        while (done < length) {
            int n = (int) Math.min(CHUNK, length - done);
            buffer.clear().limit(n);
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
