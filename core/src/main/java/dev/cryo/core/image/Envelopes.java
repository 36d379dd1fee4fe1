package dev.cryo.core.image;

import com.google.protobuf.Any;
import com.google.protobuf.Internal;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.core.image.proto.Envelope;

/**
 * Packs plugin-owned records into {@link Envelope}s ({@code kind} + {@code google.protobuf.Any}) and unpacks
 * them, so core stores records whose schema it does not know. Stateless; any thread.
 */
public final class Envelopes {
    private Envelopes() {
    }

    /** @return {@code record} packed for the handler {@code kind} (e.g. {@code acme/gpu-fd}) */
    public static Envelope wrap(String kind, Message record) {
        return Envelope.newBuilder().setKind(kind).setRecord(Any.pack(record)).build();
    }

    /**
     * Unpacks the record of an envelope.
     *
     * @param where names the record for messages, e.g. {@code "pipes.img record 3"}
     * @throws CryoException IMAGE {@code core/IMAGE_RECORD_TYPE} when the envelope holds another type,
     *                       {@code core/IMAGE_CORRUPT} when its bytes do not parse
     */
    public static <T extends Message> T unwrap(Envelope envelope, Class<T> type, String where) throws CryoException {
        return unpack(envelope.getRecord(), type, where + " (kind " + envelope.getKind() + ")");
    }

    /**
     * Unpacks an {@code Any} found in an image.
     *
     * @param where names the record for messages, e.g. {@code "fdinfo-12.img record 0 (fd 3)"}
     * @throws CryoException IMAGE {@code core/IMAGE_RECORD_TYPE} when it holds another type,
     *                       {@code core/IMAGE_CORRUPT} when its bytes do not parse
     */
    public static <T extends Message> T unpack(Any any, Class<T> type, String where) throws CryoException {
        if (!any.is(type)) {
            String want = Internal.getDefaultInstance(type).getDescriptorForType().getFullName();
            String got = any.getTypeUrl().isEmpty() ? "nothing (empty Any)" : any.getTypeUrl();
            throw new CryoException(CryoException.Category.IMAGE, "core/IMAGE_RECORD_TYPE",
                    where + " holds " + got + ", expected " + want,
                    "the image was written by another plugin or plugin version than the one enabled now; enable "
                            + "the plugin versions the image's inventory lists");
        }
        try {
            return any.unpack(type);
        } catch (InvalidProtocolBufferException e) {
            throw new CryoException(CryoException.Category.IMAGE, ImageErrors.CORRUPT,
                    "corrupt image record: " + where + " does not parse as " + any.getTypeUrl() + ": "
                            + e.getMessage(), "the image is damaged; dump the tree again", e);
        }
    }
}
