package dev.cryo.core.image;

import dev.cryo.api.CryoException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * Appends raw page data to a {@code pages-N.img} file ({@link ImageFormat}: a 4096-byte header, then the data).
 * Obtained from {@link ImageDir#pagesWriter}.
 *
 * <p>Data goes straight from the caller's (direct) buffer to the file with positional {@link FileChannel} writes:
 * no copy into the Java heap, no buffering here. Callers batch: one append per large run of pages read with
 * process_vm_readv, never one per page. Every append is a whole number of {@link ImageFormat#PAGE_SIZE pages},
 * so data offsets stay page-aligned.
 *
 * <p>Each appended page's CRC32C is computed here (on the appending thread: the pages writer thread of a dump)
 * and kept; {@link #close()} writes the table after the data, then records the data size in the header (and fsyncs
 * when the image was created with {@code fsync}); a pages file whose writer never closed is refused on restore.
 * Thread-safe: appends are serialised.
 */
public final class PagesWriter implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final Consumer<PagesWriter> onClose;
    private final boolean sync;
    private long dataSize;
    private boolean closed;
    /** One crc32c per page appended so far, little endian; written after the data at close. */
    private ByteBuffer crcs = ByteBuffer.allocateDirect(16 << 10).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C crc = new CRC32C();

    PagesWriter(Path file, FileChannel channel, Consumer<PagesWriter> onClose, boolean sync) throws CryoException {
        this.file = file;
        this.channel = channel;
        this.onClose = onClose;
        this.sync = sync;
        writeHeader(ImageFormat.DATA_SIZE_UNSET);
    }

    /**
     * Appends the remaining bytes of {@code src} (position to limit; on return its position is at its limit).
     *
     * @param src a direct buffer holding a whole number of pages; heap buffers work but cost a JDK-internal copy
     * @return the data offset (relative to the data start) at which the bytes are stored
     * @throws CryoException INTERNAL {@code core/PAGES_UNALIGNED} when {@code src} is not whole pages; IMAGE on an
     *                       I/O failure (disk full...)
     */
    public synchronized long append(ByteBuffer src) throws CryoException {
        if (closed) {
            throw ImageErrors.internal("core/IMAGE_WRITER_CLOSED", "append to " + file + " after close");
        }
        int length = src.remaining();
        if (length % ImageFormat.PAGE_SIZE != 0) {
            throw ImageErrors.internal("core/PAGES_UNALIGNED", "append of " + length + " bytes to " + file
                    + ": not a whole number of " + ImageFormat.PAGE_SIZE + "-byte pages");
        }
        long at = dataSize;
        long position = ImageFormat.PAGES_HEADER_BYTES + at;
        checksum(src);
        try {
            while (src.hasRemaining()) {
                position += channel.write(src, position);
            }
        } catch (IOException e) {
            throw ImageErrors.io("pwrite", file, e);
        }
        dataSize += length;
        return at;
    }

    /** Adds the crc32c of every page of {@code src} (position to limit, left unchanged) to the table. */
    private void checksum(ByteBuffer src) {
        int pages = src.remaining() / ImageFormat.PAGE_SIZE;
        if (crcs.remaining() < pages * 4) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(crcs.capacity() * 2, crcs.position() + pages * 4))
                    .order(ByteOrder.LITTLE_ENDIAN);
            crcs.flip();
            bigger.put(crcs);
            crcs = bigger;
        }
        ByteBuffer page = src.duplicate();
        for (int i = 0, p = src.position(); i < pages; i++, p += ImageFormat.PAGE_SIZE) {
            page.limit(p + ImageFormat.PAGE_SIZE).position(p);
            crc.reset();
            crc.update(page);
            crcs.putInt((int) crc.getValue());
        }
    }

    /** @return bytes of page data appended so far */
    public synchronized long dataSize() {
        return dataSize;
    }

    /** @return the file name inside the image directory */
    public String fileName() {
        return file.getFileName().toString();
    }

    /** @return bytes of the file once closed: header, data and crc table */
    public synchronized long size() {
        return ImageFormat.PAGES_HEADER_BYTES + dataSize + dataSize / ImageFormat.PAGE_SIZE * 4;
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /** Writes the crc table, records the data size in the header, fsyncs (when asked at creation), closes. Idempotent. */
    @Override
    public void close() throws CryoException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            try (channel) {
                crcs.flip();
                long position = ImageFormat.PAGES_HEADER_BYTES + dataSize;
                try {
                    while (crcs.hasRemaining()) {
                        position += channel.write(crcs, position);
                    }
                } catch (IOException e) {
                    throw ImageErrors.io("pwrite", file, e);
                }
                writeHeader(dataSize);
                if (sync) {
                    channel.force(false);
                }
            } catch (IOException e) {
                throw ImageErrors.io("fsync", file, e);
            }
        }
        onClose.accept(this); // outside the lock: ImageDir locks itself, then writers, never the other way
    }

    /** Closes without completing the header, for {@link ImageDir#discard()}. */
    synchronized void abandon() {
        closed = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // the file is deleted next; nothing of it is kept
        }
    }

    private void writeHeader(long size) throws CryoException {
        ByteBuffer h = ByteBuffer.allocateDirect(ImageFormat.PAGES_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(ImageFormat.MAGIC_INT).putInt(ImageFormat.FORMAT_VERSION).putInt(FileType.PAGES.code())
                .putInt(ImageFormat.PAGES_HEADER_BYTES).putInt(ImageFormat.PAGE_SIZE).putInt(ImageFormat.PAGES_FLAG_CRC)
                .putLong(size);
        CRC32C crc = new CRC32C();
        crc.update(h.duplicate().flip());
        h.putInt((int) crc.getValue());
        h.clear();
        long position = 0;
        try {
            while (h.hasRemaining()) {
                position += channel.write(h, position);
            }
        } catch (IOException e) {
            throw ImageErrors.io("pwrite", file, e);
        }
    }
}
