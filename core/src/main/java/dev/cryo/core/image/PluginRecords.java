package dev.cryo.core.image;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Decodes the plugins' records of an image ({@code Any} in fd records and envelopes) from the descriptors the
 * enabled plugins declare, without their classes: for the views that read plugin records by field name
 * ({@link ImageSummary}, {@link ImageGraph}).
 */
final class PluginRecords {
    private final Map<String, Descriptor> types = new HashMap<>();

    /** @param recordTypes the plugins' record descriptors (their {@code recordTypes()}); their files' siblings too */
    PluginRecords(List<Descriptor> recordTypes) {
        for (Descriptor d : recordTypes) {
            types.put(d.getFullName(), d);
            for (Descriptor other : d.getFile().getMessageTypes()) {
                types.putIfAbsent(other.getFullName(), other);
            }
        }
    }

    /** @return the record, or empty when it is absent or no enabled plugin declares its type */
    Optional<DynamicMessage> decode(Any any) {
        if (any.getTypeUrl().isEmpty()) {
            return Optional.empty();
        }
        Descriptor d = types.get(any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1));
        if (d == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(DynamicMessage.parseFrom(d, any.getValue()));
        } catch (InvalidProtocolBufferException e) {
            return Optional.empty();
        }
    }
}
