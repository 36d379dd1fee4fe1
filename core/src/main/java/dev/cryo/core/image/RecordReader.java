package dev.cryo.core.image;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.cryo.api.CryoException;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads the records of one image file in the order written, checking each frame's length and crc32c.
 * Obtained from {@link ImageDir#reader}; the header (magic, version, type) is checked on open.
 *
 * <p>Use {@link #readAll} for small files, or {@link #next} to stream a large one. Not thread-safe.
 *
 * <p>Errors (all category IMAGE, each naming the file, the record index and its byte offset):
 * {@code core/IMAGE_CORRUPT} for a checksum mismatch, an impossible length or a payload that does not parse;
 * {@code core/IMAGE_TRUNCATED} when the file ends inside a frame (when the inventory recorded the file's size
 * and it matches, the same condition can only be a corrupt length field and is reported as corrupt);
 * {@code core/IMAGE_VERSION} for another format version; {@code core/RECORD_TOO_LARGE} for a record this JVM's heap
 * cannot hold ({@value #HEAP_FACTOR} times its length; the fix: more heap), instead of an OutOfMemoryError.
 */
public final class RecordReader implements AutoCloseable {
    /** Heap reading a record takes, as a multiple of its length: the payload, the parsed record, a margin. */
    static final int HEAP_FACTOR = 4;

    private final Path file;
    private final FileType type;
    /** The open file, or null for a file read whole into memory ({@link #fromBytes}). */
    private final FileChannel channel;
    private final InputStream in;
    private final long fileSize;
    private final boolean sizeVerified;
    private final CRC32C crc = new CRC32C();
    private final byte[] frameHeader = new byte[ImageFormat.FRAME_HEADER_BYTES];
    private long offset;
    private int index;
    private boolean typeChecked;

    private RecordReader(Path file, FileType type, FileChannel channel, long fileSize, boolean sizeVerified) {
        this(file, type, channel, new BufferedInputStream(Channels.newInputStream(channel), 64 * 1024), fileSize,
                sizeVerified);
    }

    private RecordReader(Path file, FileType type, FileChannel channel, InputStream in, long fileSize,
                         boolean sizeVerified) {
        this.file = file;
        this.type = type;
        this.channel = channel;
        this.in = in;
        this.fileSize = fileSize;
        this.sizeVerified = sizeVerified;
        this.offset = ImageFormat.RECORD_HEADER_BYTES;
    }

    /**
     * Opens {@code file} and checks its header.
     *
     * @param expected     the type the caller needs, or {@code null} for any record file type
     * @param sizeVerified whether the file's size was checked against the inventory (a frame running past the
     *                     end is then corruption, not truncation)
     */
    static RecordReader open(Path file, FileType expected, boolean sizeVerified) throws CryoException {
        return ImageFiles.open(file, channel -> {
            long size = channel.size();
            ByteBuffer header = ByteBuffer.allocate(ImageFormat.RECORD_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            while (header.hasRemaining()) {
                if (channel.read(header) < 0) {
                    throw ImageErrors.truncated(file, "the file is " + size + " bytes, shorter than the "
                            + ImageFormat.RECORD_HEADER_BYTES + "-byte header");
                }
            }
            FileType type = ImageFormat.checkHeader(file, header, expected);
            if (!type.hasRecords()) {
                throw ImageErrors.internal("core/IMAGE_FILE_TYPE", file + " is a " + type
                        + " file; read it with ImageDir.pagesReader");
            }
            return new RecordReader(file, type, channel, size, sizeVerified);
        });
    }

    /**
     * A reader over the bytes of {@code file} read whole (a small record file whose checksum was checked on these
     * bytes: one open and one read instead of two of each), checking its header as {@link #open} does.
     */
    static RecordReader fromBytes(Path file, FileType expected, boolean sizeVerified, byte[] bytes)
            throws CryoException {
        if (bytes.length < ImageFormat.RECORD_HEADER_BYTES) {
            throw ImageErrors.truncated(file, "the file is " + bytes.length + " bytes, shorter than the "
                    + ImageFormat.RECORD_HEADER_BYTES + "-byte header");
        }
        FileType type = ImageFormat.checkHeader(file, ByteBuffer.wrap(bytes, 0, ImageFormat.RECORD_HEADER_BYTES)
                .slice(), expected);
        if (!type.hasRecords()) {
            throw ImageErrors.internal("core/IMAGE_FILE_TYPE", file + " is a " + type
                    + " file; read it with ImageDir.pagesReader");
        }
        return new RecordReader(file, type, null, new java.io.ByteArrayInputStream(bytes,
                ImageFormat.RECORD_HEADER_BYTES, bytes.length - ImageFormat.RECORD_HEADER_BYTES), bytes.length,
                sizeVerified);
    }

    /** @return the crc32c of {@code bytes}, as {@link #checkWholeFile} computes a file's */
    static int crc32c(byte[] bytes) {
        CRC32C whole = new CRC32C();
        whole.update(bytes, 0, bytes.length);
        return (int) whole.getValue();
    }

    /**
     * Checks the crc32c of the whole file (header and every frame, in order) against what the inventory recorded.
     * On a mismatch the file is read record by record, so that a damaged frame is reported as such (its index,
     * offset and checksum); if every frame checks out, the records were swapped, duplicated or dropped (or rewritten
     * with their checksums recomputed): {@code core/IMAGE_CORRUPT} with the record count found and recorded.
     *
     * @param records the record count the inventory recorded, or null when it has none
     */
    static void checkWholeFile(Path file, FileType expected, boolean sizeVerified, Integer records, int crc)
            throws CryoException {
        CRC32C whole = new CRC32C();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
            while (ch.read(buf) >= 0) {
                whole.update(buf.flip());
                buf.clear();
            }
        } catch (NoSuchFileException e) {
            throw ImageFiles.missing(file, e);
        } catch (IOException e) {
            throw ImageErrors.io("read", file, e);
        }
        if ((int) whole.getValue() == crc) {
            return;
        }
        int found;
        try (RecordReader r = open(file, expected, sizeVerified)) {
            while (r.nextPayload() != null) {
                // each frame's own checks report a damaged frame first
            }
            found = r.recordsRead();
        }
        String sums = "the file's crc32c is 0x" + Integer.toHexString((int) whole.getValue())
                + ", the inventory recorded 0x" + Integer.toHexString(crc);
        if (records != null && found != records) {
            throw ImageErrors.corrupt(file, "it holds " + found + (found == 1 ? " record" : " records")
                    + ", the inventory recorded " + records + " (" + sums + "): records were "
                    + (found < records ? "dropped" : "added or duplicated") + " after the dump");
        }
        throw ImageErrors.corrupt(file, "every record's own checksum is right, but " + sums + " ("
                + found + (found == 1 ? " record" : " records") + (records != null ? ", as many as recorded" : "")
                + "): records were reordered or rewritten after the dump");
    }

    /** @return the file's type as its header states it */
    public FileType type() {
        return type;
    }

    /** @return the file name inside the image directory */
    public String fileName() {
        return file.getFileName().toString();
    }

    /** @return how many records were read so far (the index of the next one) */
    public int recordsRead() {
        return index;
    }

    /**
     * Reads the next record's payload, checked against its crc32c.
     *
     * @return the payload, or {@code null} at the end of the file
     */
    public ByteString nextPayload() throws CryoException {
        long frameOffset = offset;
        int got = readFully(frameHeader, 0, frameHeader.length);
        if (got == 0) {
            return null;
        }
        if (got < frameHeader.length) {
            throw pastEnd(frameOffset, "its " + ImageFormat.FRAME_HEADER_BYTES + "-byte frame header");
        }
        ByteBuffer h = ByteBuffer.wrap(frameHeader).order(ByteOrder.LITTLE_ENDIAN);
        long length = Integer.toUnsignedLong(h.getInt(0));
        int storedCrc = h.getInt(4);
        if (length > ImageFormat.MAX_RECORD_BYTES) {
            throw ImageErrors.corrupt(file, where(frameOffset) + ": length field says " + length
                    + " bytes, more than any record (limit " + ImageFormat.MAX_RECORD_BYTES + ")");
        }
        long payloadOffset = frameOffset + ImageFormat.FRAME_HEADER_BYTES;
        if (payloadOffset + length > fileSize) {
            throw pastEnd(frameOffset, length + " bytes of payload");
        }
        long heap = Runtime.getRuntime().maxMemory();
        if (length * HEAP_FACTOR > heap) {
            // the payload, the record parsed from it and what reads it next would not fit: a clean refusal, not an
            // OutOfMemoryError
            throw new CryoException(CryoException.Category.IMAGE, "core/RECORD_TOO_LARGE", "record " + index + " of "
                    + file + " is " + length + " bytes: reading it needs about " + (length * HEAP_FACTOR >> 20)
                    + " MiB of heap, and cryo has " + (heap >> 20) + " MiB",
                    "give cryo more heap (e.g. CRYO_JAVA_OPTS=-Xmx" + ((length * HEAP_FACTOR * 2 >> 30) + 1) + "g)");
        }
        byte[] payload = new byte[(int) length];
        if (readFully(payload, 0, payload.length) < payload.length) {
            throw pastEnd(frameOffset, length + " bytes of payload");
        }
        crc.reset();
        crc.update(payload);
        if ((int) crc.getValue() != storedCrc) {
            throw ImageErrors.corrupt(file, where(frameOffset) + ": checksum mismatch (stored crc32c 0x"
                    + Integer.toHexString(storedCrc) + ", computed 0x" + Long.toHexString(crc.getValue())
                    + ", " + length + " bytes)");
        }
        index++;
        return ByteString.copyFrom(payload);
    }

    /**
     * Reads and parses the next record.
     *
     * @param parser the parser of this file type's record type (e.g. {@code CoreEntry.parser()})
     * @return the record, or {@code null} at the end of the file
     * @throws CryoException INTERNAL {@code core/IMAGE_RECORD_TYPE} when {@code parser} yields another message
     *                       type than the file holds; IMAGE as described on the class
     */
    public <T extends Message> T next(Parser<T> parser) throws CryoException {
        long frameOffset = offset;
        int recordIndex = index;
        ByteString payload = nextPayload();
        if (payload == null) {
            return null;
        }
        T record;
        try {
            record = parser.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            throw ImageErrors.corrupt(file, "record " + recordIndex + " at offset " + frameOffset
                    + " does not parse: " + e.getMessage(), e);
        }
        if (!typeChecked) {
            // by class: getDescriptorForType() builds the type's field accessor table by reflection (see Envelopes)
            Message want = type.recordType().orElseThrow();
            if (record.getClass() != want.getClass()) {
                throw ImageErrors.internal("core/IMAGE_RECORD_TYPE", "reading " + file + " (" + type
                        + ") with a parser of " + record.getDescriptorForType().getFullName() + "; the file holds "
                        + want.getDescriptorForType().getFullName());
            }
            typeChecked = true;
        }
        return record;
    }

    /** Reads every remaining record. */
    public <T extends Message> List<T> readAll(Parser<T> parser) throws CryoException {
        List<T> records = new ArrayList<>();
        for (T r = next(parser); r != null; r = next(parser)) {
            records.add(r);
        }
        return records;
    }

    @Override
    public void close() {
        if (channel != null) {
            ImageFiles.closeQuietly(channel);
        }
    }

    private String where(long frameOffset) {
        return "record " + index + " at offset " + frameOffset;
    }

    private CryoException pastEnd(long frameOffset, String what) {
        String detail = where(frameOffset) + ": the file ends at " + fileSize + " bytes, inside " + what;
        if (sizeVerified) {
            return ImageErrors.corrupt(file, detail + " (the file has the size the inventory recorded, so the "
                    + "length field is wrong)");
        }
        return ImageErrors.truncated(file, detail);
    }

    /** @return bytes read: {@code len} unless the end of the file came first */
    private int readFully(byte[] buf, int off, int len) throws CryoException {
        int total = 0;
        try {
            while (total < len) {
                int n = in.read(buf, off + total, len - total);
                if (n < 0) {
                    break;
                }
                total += n;
            }
        } catch (IOException e) {
            throw ImageErrors.io("read", file, e);
        }
        offset += total;
        return total;
    }
}
