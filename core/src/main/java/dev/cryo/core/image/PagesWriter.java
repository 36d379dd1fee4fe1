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
 * <p>Each appended page's CRC32C is kept: computed by the caller ({@link #append(ByteBuffer, int[])}, with
 * {@link #checksum}: a dump computes it on whichever of its two threads has time) or here; {@link #close()} writes the table after the data, then records the data size in the header (and fsyncs
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
    /** crc32c of the table of page checksums, once closed; recorded by the inventory. */
    private int tableCrc;
    /** One crc32c per page appended so far, little endian; written after the data at close. */
    private ByteBuffer crcs = ByteBuffer.allocateDirect(16 << 10).order(ByteOrder.LITTLE_ENDIAN);

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
    public long append(ByteBuffer src) throws CryoException {
        int[] pageCrcs = new int[src.remaining() / ImageFormat.PAGE_SIZE];
        checksum(src, pageCrcs);
        return append(src, pageCrcs);
    }

    /**
     * Appends the remaining bytes of {@code src} like {@link #append(ByteBuffer)}, with the pages' checksums already
     * computed by {@link #checksum}.
     *
     * @param pageCrcs the crc32c of each page of {@code src}, in order (at least as many entries as pages)
     */
    public synchronized long append(ByteBuffer src, int[] pageCrcs) throws CryoException {
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
        keep(pageCrcs, length / ImageFormat.PAGE_SIZE);
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

    /** Adds the first {@code pages} entries of {@code pageCrcs} to the table. */
    private void keep(int[] pageCrcs, int pages) {
        if (crcs.remaining() < pages * 4) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(crcs.capacity() * 2, crcs.position() + pages * 4))
                    .order(ByteOrder.LITTLE_ENDIAN);
            crcs.flip();
            bigger.put(crcs);
            crcs = bigger;
        }
        for (int i = 0; i < pages; i++) {
            crcs.putInt(pageCrcs[i]);
        }
    }

    /**
     * Computes the crc32c of every page of {@code src} (position to limit, left unchanged) into {@code out}. Any
     * thread; the caller of {@link #append(ByteBuffer, int[])} picks the one with spare time.
     */
    public static void checksum(ByteBuffer src, int[] out) {
        CRC32C crc = new CRC32C();
        ByteBuffer page = src.duplicate();
        int pages = src.remaining() / ImageFormat.PAGE_SIZE;
        for (int i = 0, p = src.position(); i < pages; i++, p += ImageFormat.PAGE_SIZE) {
            page.limit(p + ImageFormat.PAGE_SIZE).position(p);
            crc.reset();
            crc.update(page);
            out[i] = (int) crc.getValue();
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

    /** @return the crc32c of the table of page checksums (once closed) */
    synchronized int tableCrc() {
        return tableCrc;
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
                CRC32C table = new CRC32C();
                table.update(crcs.duplicate());
                tableCrc = (int) table.getValue();
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
