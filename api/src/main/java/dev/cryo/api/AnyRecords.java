package dev.cryo.api;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Internal;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;

/**
 * {@link Any#unpack(Class)} without its per-call reflection: protobuf-java looks the generated class's
 * {@code getDefaultInstance()} up and calls it by reflection twice per call (and from the 16th call of a type the JDK
 * generates an accessor class), which a restore paid for every fd record it checks (issue 13). Here the default
 * instance and the type's full name are found once per class. Same answers as {@code Any.unpack}: the part of the type
 * URL after its last '/' must be the type's full name.
 */
final class AnyRecords {
    /** A generated message class to its default instance. */
    private static final ClassValue<Message> DEFAULTS = new ClassValue<>() {
        @Override
        protected Message computeValue(Class<?> type) {
            return (Message) Internal.getDefaultInstance(type.asSubclass(Message.class));
        }
    };

    /** A generated message class to its full name, from its static {@code getDescriptor()}; null without one. */
    private static final ClassValue<String> NAMES = new ClassValue<>() {
        @Override
        protected String computeValue(Class<?> type) {
            try {
                Object d = type.getMethod("getDescriptor").invoke(null);
                return d instanceof Descriptor descriptor ? descriptor.getFullName() : null;
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
    };

    private AnyRecords() {
    }

    /** @return {@code any}'s record as {@code type}, as {@link Any#unpack(Class)} returns it (without its cache) */
    static <T extends Message> T unpack(Any any, Class<T> type) throws InvalidProtocolBufferException {
        String name = NAMES.get(type);
        if (name == null) {
            return any.unpack(type);
        }
        String url = any.getTypeUrl();
        int slash = url.lastIndexOf('/');
        if (!(slash < 0 ? "" : url.substring(slash + 1)).equals(name)) {
            throw new InvalidProtocolBufferException("Type of the Any message does not match the given class.");
        }
        @SuppressWarnings("unchecked")
        T record = (T) DEFAULTS.get(type).getParserForType().parseFrom(any.getValue());
        return record;
    }
}
