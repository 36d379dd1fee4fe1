package dev.cryo.core.image;

import com.google.protobuf.Message;
import dev.cryo.api.CryoException;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * Appends protobuf records to one image file ({@link ImageFormat}: header, then length + crc32c framed
 * messages). Obtained from {@link ImageDir#writer}; the file already exists (0600) with its header written.
 *
 * <p>Every record must be of the file type's {@link FileType#recordType() record type}. Records are buffered;
 * {@link #close()} flushes (and fsyncs when the image was created with {@code fsync}), and must be called before
 * {@link ImageDir#writeInventory}.
 *
 * <p>Not thread-safe: one thread writes one file. Any I/O failure is a {@link CryoException} (IMAGE,
 * {@code core/IMAGE_IO}) naming the file; the writer is unusable afterwards and the dump should
 * {@link ImageDir#discard() discard} the image.
 */
public final class RecordWriter implements AutoCloseable {
    private final Path file;
    private final FileType type;
    private final Class<?> recordClass;
    private final FileChannel channel;
    private final OutputStream out;
    private final Consumer<RecordWriter> onClose;
    private final boolean sync;
    private final CRC32C crc = new CRC32C();
    /** crc32c of every byte written so far (header and frames), recorded by the inventory. */
    private final CRC32C fileCrc = new CRC32C();
    private final ByteBuffer frameHeader = ByteBuffer.allocate(ImageFormat.FRAME_HEADER_BYTES)
            .order(ByteOrder.LITTLE_ENDIAN);
    private long size;
    private int records;
    private boolean closed;

    RecordWriter(Path file, FileType type, FileChannel channel, Consumer<RecordWriter> onClose, boolean sync)
            throws CryoException {
        this.file = file;
        this.type = type;
        // the record type by class: getDescriptorForType() builds the type's field accessor table by reflection
        // (see Envelopes), a cost the frozen tree would wait for
        this.recordClass = type.recordType().orElseThrow().getClass();
        this.channel = channel;
        this.out = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
        this.onClose = onClose;
        this.sync = sync;
        ByteBuffer header = ByteBuffer.allocate(ImageFormat.RECORD_HEADER_BYTES);
        ImageFormat.putRecordHeader(header, type);
        try {
            out.write(header.array());
            fileCrc.update(header.array());
        } catch (IOException e) {
            throw ImageErrors.io("write", file, e);
        }
        size = ImageFormat.RECORD_HEADER_BYTES;
    }

    /**
     * Appends one record.
     *
     * @throws CryoException INTERNAL {@code core/IMAGE_RECORD_TYPE} when {@code record} is not of this file's record
     *                       type, {@code core/IMAGE_RECORD_TOO_LARGE} when it is larger than
     *                       {@link ImageFormat#MAX_RECORD_BYTES}; IMAGE on an I/O failure
     */
    public void write(Message record) throws CryoException {
        if (closed) {
            throw ImageErrors.internal("core/IMAGE_WRITER_CLOSED", "write to " + file + " after close");
        }
        if (record.getClass() != recordClass) {
            throw ImageErrors.internal("core/IMAGE_RECORD_TYPE", "record " + records + " for " + file + " is a "
                    + record.getDescriptorForType().getFullName() + ", but " + type + " files hold "
                    + type.recordType().orElseThrow().getDescriptorForType().getFullName());
        }
        byte[] payload = record.toByteArray();
        if (payload.length > ImageFormat.MAX_RECORD_BYTES) {
            throw ImageErrors.internal("core/IMAGE_RECORD_TOO_LARGE", "record " + records + " for " + file + " ("
                    + record.getDescriptorForType().getFullName() + ") is " + payload.length + " bytes, more than the limit of "
                    + ImageFormat.MAX_RECORD_BYTES);
        }
        crc.reset();
        crc.update(payload);
        frameHeader.clear();
        frameHeader.putInt(payload.length).putInt((int) crc.getValue());
        try {
            out.write(frameHeader.array());
            out.write(payload);
        } catch (IOException e) {
            throw ImageErrors.io("write", file, e);
        }
        fileCrc.update(frameHeader.array());
        fileCrc.update(payload);
        size += ImageFormat.FRAME_HEADER_BYTES + payload.length;
        records++;
    }

    /** @return records written so far */
    public int records() {
        return records;
    }

    /** @return bytes of the file once flushed, header included */
    public long size() {
        return size;
    }

    /** @return the crc32c of the whole file as written so far (header and every frame) */
    public int fileCrc() {
        return (int) fileCrc.getValue();
    }

    /** @return the file name inside the image directory */
    public String fileName() {
        return file.getFileName().toString();
    }

    public FileType type() {
        return type;
    }

    boolean isClosed() {
        return closed;
    }

    /** Flushes, fsyncs (when asked at creation) and closes the file. Idempotent. */
    @Override
    public void close() throws CryoException {
        if (closed) {
            return;
        }
        closed = true;
        try (channel) {
            out.flush();
            if (sync) {
                channel.force(false);
            }
        } catch (IOException e) {
            throw ImageErrors.io("write", file, e);
        }
        onClose.accept(this);
    }

    /** Closes without flushing, for {@link ImageDir#discard()}. */
    void abandon() {
        closed = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // the file is deleted next; nothing of it is kept
        }
    }
}
