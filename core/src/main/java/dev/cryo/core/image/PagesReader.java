package dev.cryo.core.image;

import dev.cryo.api.CryoException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Reads raw page data from a {@code pages-N.img} file with positional {@link FileChannel} reads into the
 * caller's (direct) buffers. Obtained from {@link ImageDir#pagesReader}; the header is checked on open,
 * including that the file holds as much data as the header says. Every read is checked against the file's table of
 * page checksums ({@link #verify}, also for callers that map the file themselves); {@link #verifyAll} checks the
 * whole file. A pages file of an older cryo has no table: {@link #checksummed()} is false and nothing is checked.
 *
 * <p>Thread-safe: reads are positional and may run concurrently.
 */
public final class PagesReader implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final long dataSize;
    /** One crc32c per page (little endian), read from the end of the file; null when the file has none. */
    private final ByteBuffer crcs;

    private PagesReader(Path file, FileChannel channel, long dataSize, ByteBuffer crcs) {
        this.file = file;
        this.channel = channel;
        this.dataSize = dataSize;
        this.crcs = crcs;
    }

    /**
     * @param tableCrc the crc32c of the table of page checksums the inventory recorded, or null (an image of an
     *                 older cryo): a mismatch means pages swapped, duplicated or dropped together with their checksums
     */
    static PagesReader open(Path file, Integer tableCrc) throws CryoException {
        return ImageFiles.open(file, channel -> {
            long fileSize = channel.size();
            ByteBuffer h = ByteBuffer.allocate(ImageFormat.PAGES_HEADER_CRC_OFFSET + 4)
                    .order(ByteOrder.LITTLE_ENDIAN);
            while (h.hasRemaining()) {
                if (channel.read(h, h.position()) < 0) {
                    throw ImageErrors.truncated(file, "the file is " + fileSize + " bytes, shorter than the "
                            + ImageFormat.PAGES_HEADER_BYTES + "-byte pages header");
                }
            }
            if (fileSize < ImageFormat.PAGES_HEADER_BYTES) {
                throw ImageErrors.truncated(file, "the file is " + fileSize + " bytes, shorter than the "
                        + ImageFormat.PAGES_HEADER_BYTES + "-byte pages header");
            }
            ImageFormat.checkHeader(file, h, FileType.PAGES);
            CRC32C crc = new CRC32C();
            crc.update(h.array(), 0, ImageFormat.PAGES_HEADER_CRC_OFFSET);
            int stored = h.getInt(ImageFormat.PAGES_HEADER_CRC_OFFSET);
            if (stored != (int) crc.getValue()) {
                throw ImageErrors.corrupt(file, "pages header checksum mismatch (stored crc32c 0x"
                        + Integer.toHexString(stored) + ", computed 0x" + Long.toHexString(crc.getValue()) + ")");
            }
            int headerSize = h.getInt(12);
            int pageSize = h.getInt(16);
            if (headerSize != ImageFormat.PAGES_HEADER_BYTES || pageSize != ImageFormat.PAGE_SIZE) {
                throw ImageErrors.corrupt(file, "pages header declares header size " + headerSize
                        + " and page size " + pageSize + ", expected " + ImageFormat.PAGES_HEADER_BYTES + " and "
                        + ImageFormat.PAGE_SIZE);
            }
            long dataSize = h.getLong(ImageFormat.PAGES_DATA_SIZE_OFFSET);
            if (dataSize == ImageFormat.DATA_SIZE_UNSET) {
                throw new CryoException(CryoException.Category.IMAGE, ImageErrors.INCOMPLETE,
                        "incomplete image file " + file + ": its writer never finished (no data size in the header)",
                        "the dump did not finish; dump the tree again");
            }
            if (dataSize < 0 || dataSize % ImageFormat.PAGE_SIZE != 0) {
                throw ImageErrors.corrupt(file, "pages header declares " + dataSize + " bytes of data, not a whole "
                        + "number of pages");
            }
            int flags = h.getInt(ImageFormat.PAGES_FLAGS_OFFSET);
            if ((flags & ~ImageFormat.PAGES_FLAG_CRC) != 0) {
                throw ImageErrors.corrupt(file, "pages header has unknown flags 0x" + Integer.toHexString(flags));
            }
            long table = (flags & ImageFormat.PAGES_FLAG_CRC) != 0 ? dataSize / ImageFormat.PAGE_SIZE * 4 : 0;
            long expected = ImageFormat.PAGES_HEADER_BYTES + dataSize + table;
            String declared = "the header declares " + dataSize + " bytes of page data" + (table > 0 ? " and "
                    + table + " bytes of checksums" : "") + " (" + expected + " bytes of file), but the file is "
                    + fileSize + " bytes";
            if (fileSize < expected) {
                throw ImageErrors.truncated(file, declared);
            }
            if (fileSize > expected) {
                throw ImageErrors.corrupt(file, declared);
            }
            ByteBuffer crcs = null;
            if (table > 0) {
                // read, not mapped: a file cut short later must fail a read, not fault the JVM
                crcs = ByteBuffer.allocateDirect((int) table).order(ByteOrder.LITTLE_ENDIAN);
                while (crcs.hasRemaining()) {
                    if (channel.read(crcs, ImageFormat.PAGES_HEADER_BYTES + dataSize + crcs.position()) < 0) {
                        throw ImageErrors.truncated(file, declared);
                    }
                }
            }
            if (tableCrc != null) {
                CRC32C t = new CRC32C();
                t.update(crcs == null ? ByteBuffer.allocate(0) : crcs.duplicate().clear());
                if ((int) t.getValue() != tableCrc) {
                    throw ImageErrors.corrupt(file, "its table of " + table / 4 + " page checksums has crc32c 0x"
                            + Integer.toHexString((int) t.getValue()) + ", the inventory recorded 0x"
                            + Integer.toHexString(tableCrc) + ": pages were reordered, duplicated or dropped "
                            + "together with their checksums");
                }
            }
            return new PagesReader(file, channel, dataSize, crcs);
        });
    }

    /** @return bytes of page data in the file (header excluded) */
    public long dataSize() {
        return dataSize;
    }

    /** @return the file name inside the image directory */
    public String fileName() {
        return file.getFileName().toString();
    }

    /** @return whether the file has a table of page checksums (images of older cryos do not) */
    public boolean checksummed() {
        return crcs != null;
    }

    /**
     * Checks the pages in {@code data} (position to limit, left unchanged), stored at data offset {@code dataOffset},
     * against the file's checksums. Nothing to check in a file without a table.
     *
     * @throws CryoException IMAGE {@code core/IMAGE_CORRUPT} naming the file and the offset of the first page whose
     *                       crc32c differs
     */
    public void verify(long dataOffset, ByteBuffer data) throws CryoException {
        if (crcs == null) {
            return;
        }
        int length = data.remaining();
        if (((dataOffset | length) & (ImageFormat.PAGE_SIZE - 1)) != 0) {
            throw ImageErrors.internal("core/PAGES_UNALIGNED", "checksum check of " + length + " bytes at data offset "
                    + dataOffset + " of " + file + ": not whole pages");
        }
        checkRange(dataOffset, length);
        CRC32C crc = new CRC32C();
        ByteBuffer page = data.duplicate();
        for (int p = data.position(); p < data.limit(); p += ImageFormat.PAGE_SIZE) {
            page.limit(p + ImageFormat.PAGE_SIZE).position(p);
            crc.reset();
            crc.update(page);
            long at = dataOffset + (p - data.position());
            int stored = crcs.getInt((int) (at / ImageFormat.PAGE_SIZE * 4));
            if (stored != (int) crc.getValue()) {
                throw ImageErrors.corrupt(file, "page data checksum mismatch at data offset " + at + " (file offset "
                        + (ImageFormat.PAGES_HEADER_BYTES + at) + ", page " + at / ImageFormat.PAGE_SIZE
                        + "): stored crc32c 0x" + Integer.toHexString(stored) + ", computed 0x"
                        + Long.toHexString(crc.getValue()));
            }
        }
    }

    /**
     * Reads and checks every page of the file, 1 MiB at a time.
     *
     * @return the number of pages checked (0 for a file without checksums)
     */
    public long verifyAll() throws CryoException {
        if (crcs == null) {
            return 0;
        }
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
        for (long at = 0; at < dataSize; at += b.capacity()) {
            b.clear().limit((int) Math.min(b.capacity(), dataSize - at));
            readUnchecked(at, b);
            b.flip();
            verify(at, b);
        }
        return dataSize / ImageFormat.PAGE_SIZE;
    }

    /** @return the file (data starts {@link ImageFormat#PAGES_HEADER_BYTES} bytes in) */
    public Path path() {
        return file;
    }

    /**
     * @throws CryoException IMAGE {@code core/IMAGE_TRUNCATED} naming the file, the offset and the file size when
     *                       {@code length} bytes at data offset {@code dataOffset} are not all in the file
     */
    public void checkRange(long dataOffset, long length) throws CryoException {
        // subtracted, not added: offsets and lengths come from records, and a huge one must not overflow past the check
        if (dataOffset < 0 || length < 0 || dataOffset > dataSize || length > dataSize - dataOffset) {
            throw truncated(dataOffset, length);
        }
    }

    /**
     * Fills {@code dst} (position to limit) with the data stored at {@code dataOffset}.
     *
     * @param dataOffset an offset returned by {@link PagesWriter#append}, or one inside such a run
     * @throws CryoException IMAGE {@code core/IMAGE_TRUNCATED} naming the file, the offset and the file size
     *                       when the data ends before {@code dst} is full
     */
    public void read(long dataOffset, ByteBuffer dst) throws CryoException {
        int start = dst.position();
        readUnchecked(dataOffset, dst);
        if (crcs == null) {
            return;
        }
        long first = dataOffset & -ImageFormat.PAGE_SIZE;
        long end = (dataOffset + (dst.position() - start) + ImageFormat.PAGE_SIZE - 1) & -ImageFormat.PAGE_SIZE;
        if (first == dataOffset && end == dataOffset + (dst.position() - start)) {
            verify(dataOffset, dst.duplicate().limit(dst.position()).position(start));
        } else {
            // a read that is not whole pages: check the pages around it
            ByteBuffer whole = ByteBuffer.allocateDirect((int) (end - first));
            readUnchecked(first, whole);
            verify(first, whole.flip());
        }
    }

    private void readUnchecked(long dataOffset, ByteBuffer dst) throws CryoException {
        int length = dst.remaining();
        if (dataOffset < 0 || dataOffset > dataSize || length > dataSize - dataOffset) {
            throw truncated(dataOffset, length);
        }
        long position = ImageFormat.PAGES_HEADER_BYTES + dataOffset;
        try {
            while (dst.hasRemaining()) {
                int n = channel.read(dst, position);
                if (n < 0) {
                    throw truncated(dataOffset, length);
                }
                position += n;
            }
        } catch (IOException e) {
            throw ImageErrors.io("pread", file, e);
        }
    }

    private CryoException truncated(long dataOffset, long length) {
        long fileSize;
        try {
            fileSize = channel.size();
        } catch (IOException e) {
            fileSize = -1;
        }
        return ImageErrors.truncated(file, "need " + length + " bytes at data offset " + dataOffset
                + " (file offset " + (ImageFormat.PAGES_HEADER_BYTES + dataOffset) + "), but the file holds "
                + dataSize + " bytes of page data (file size " + fileSize + " bytes)");
    }

    @Override
    public void close() {
        ImageFiles.closeQuietly(channel);
    }
}
