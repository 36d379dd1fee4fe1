package dev.cryo.core.image;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Internal;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.core.image.proto.Envelope;

/**
 * Packs plugin-owned records into {@link Envelope}s ({@code kind} + {@code google.protobuf.Any}) and unpacks
 * them, so core stores records whose schema it does not know. Stateless but for a per-class cache; any thread.
 *
 * <p>What {@link Any#pack} and {@link Any#unpack} do, without their {@code getDescriptorForType()}: in protobuf-java
 * 4 that builds the message type's field accessor table by reflection (a lookup of every accessor of every field),
 * about a millisecond per record type on the first record of a command, inside the window the tree is frozen
 * (issue 13). The type URL here comes from the generated class's static {@code getDescriptor()}, once per class.
 */
public final class Envelopes {
    private static final String TYPE_URL_PREFIX = "type.googleapis.com/";

    /** A generated message class to its {@code Any} type URL; null when it has no static getDescriptor(). */
    private static final ClassValue<String> TYPE_URLS = new ClassValue<>() {
        @Override
        protected String computeValue(Class<?> type) {
            try {
                Object d = type.getMethod("getDescriptor").invoke(null);
                return d instanceof Descriptor descriptor ? TYPE_URL_PREFIX + descriptor.getFullName() : null;
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
    };

    /**
     * A generated message class to its default instance. {@link Internal#getDefaultInstance} looks the method up and
     * calls it by reflection on every call: once per record, and from the 16th call of a type the JDK generates an
     * accessor class (~ms each, three per small restore; issue 13).
     */
    private static final ClassValue<Message> DEFAULTS = new ClassValue<>() {
        @Override
        protected Message computeValue(Class<?> type) {
            return (Message) Internal.getDefaultInstance(type.asSubclass(Message.class));
        }
    };

    private Envelopes() {
    }

    /** @return {@code record} packed for the handler {@code kind} (e.g. {@code acme/gpu-fd}) */
    public static Envelope wrap(String kind, Message record) {
        return Envelope.newBuilder().setKind(kind).setRecord(pack(record)).build();
    }

    /** @return {@code record} in an {@code Any}, as {@link Any#pack(Message)} makes it */
    public static Any pack(Message record) {
        String url = TYPE_URLS.get(record.getClass());
        return url == null ? Any.pack(record)
                : Any.newBuilder().setTypeUrl(url).setValue(record.toByteString()).build();
    }

    /** @return whether {@code any} holds a {@code type}, as {@link Any#is(Class)} tells */
    static boolean holds(Any any, Class<? extends Message> type) {
        String url = TYPE_URLS.get(type);
        if (url == null) {
            return any.is(type);
        }
        // as Any.is: the part after the last '/' (any prefix; none without a '/')
        String have = any.getTypeUrl();
        int slash = have.lastIndexOf('/');
        return slash >= 0 && have.substring(slash + 1).equals(url.substring(TYPE_URL_PREFIX.length()));
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
        if (!holds(any, type)) {
            String want = DEFAULTS.get(type).getDescriptorForType().getFullName();
            String got = any.getTypeUrl().isEmpty() ? "nothing (empty Any)" : any.getTypeUrl();
            throw new CryoException(CryoException.Category.IMAGE, "core/IMAGE_RECORD_TYPE",
                    where + " holds " + got + ", expected " + want,
                    "the image was written by another plugin or plugin version than the one enabled now; enable "
                            + "the plugin versions the image's inventory lists");
        }
        try {
            @SuppressWarnings("unchecked")
            T record = (T) DEFAULTS.get(type).getParserForType().parseFrom(any.getValue());
            return record;
        } catch (InvalidProtocolBufferException e) {
            throw new CryoException(CryoException.Category.IMAGE, ImageErrors.CORRUPT,
                    "corrupt image record: " + where + " does not parse as " + any.getTypeUrl() + ": "
                            + e.getMessage(), "the image is damaged; dump the tree again", e);
        }
    }
}
