package dev.cryo.core.image;

import com.google.protobuf.Message;
import dev.cryo.core.image.proto.CoreEntry;
import dev.cryo.core.image.proto.Envelope;
import dev.cryo.core.image.proto.FdinfoEntry;
import dev.cryo.core.image.proto.InventoryEntry;
import dev.cryo.core.image.proto.PstreeEntry;
import dev.cryo.core.image.proto.StatsEntry;

import java.util.Optional;

/**
 * The kind of an image file, stored as a u32 {@link #code()} in its header. Each record file kind holds records
 * of exactly one protobuf message type ({@link #recordType()}); {@link RecordWriter} refuses any other, and
 * {@code cryo show} decodes a file by its kind alone. Plugin-owned records always travel in an {@link Envelope}.
 *
 * <p>Codes are part of the image format: never renumber, only add.
 */
public enum FileType {
    /** {@code inventory.img}: one {@link InventoryEntry}, written last. */
    INVENTORY(1, InventoryEntry.getDefaultInstance()),
    /** {@code pstree.img}: one {@link PstreeEntry} per process, parents before children. */
    PSTREE(2, PstreeEntry.getDefaultInstance()),
    /** {@code core-PID.img}: one {@link CoreEntry}. */
    CORE(3, CoreEntry.getDefaultInstance()),
    /** {@code mm-PID.img}: the mappings of one process, as {@link Envelope}s of the memory handlers. */
    MM(4, Envelope.getDefaultInstance()),
    /** {@code fdinfo-PID.img}: one {@link FdinfoEntry} per fd, in fd order. */
    FDINFO(5, FdinfoEntry.getDefaultInstance()),
    // code 6 is reserved: it was a pagemap file type that was never written
    /** A per-kind object table ({@code <kind>.img}), as {@link Envelope}s. */
    OBJECTS(7, Envelope.getDefaultInstance()),
    /** Metadata of external peers recorded by ExternalPeer handlers, as {@link Envelope}s. */
    EXTERNAL(8, Envelope.getDefaultInstance()),
    /** {@code pages-N.img}: raw page data behind a 4096-byte header; no records. */
    PAGES(9, null),
    /**
     * {@code stats-dump.img}, {@code stats-restore.img}: one {@link StatsEntry}, written after the inventory and
     * not listed in it (diagnostics, not part of the image).
     */
    STATS(10, StatsEntry.getDefaultInstance());

    private final int code;
    private final Message recordPrototype;

    FileType(int code, Message recordPrototype) {
        this.code = code;
        this.recordPrototype = recordPrototype;
    }

    /** @return the number stored in the file header */
    public int code() {
        return code;
    }

    /** @return the default instance of the one message type this file holds; empty for {@link #PAGES} */
    public Optional<Message> recordType() {
        return Optional.ofNullable(recordPrototype);
    }

    /** @return whether this kind holds protobuf records (all but {@link #PAGES}) */
    public boolean hasRecords() {
        return recordPrototype != null;
    }

    /** @return the kind with this header code, or empty for a code this cryo does not know */
    public static Optional<FileType> ofCode(int code) {
        for (FileType t : values()) {
            if (t.code == code) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
