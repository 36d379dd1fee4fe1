package dev.cryo.api;

import com.google.protobuf.Message;

import java.util.List;

/**
 * Reads back records a plugin wrote through an {@link ImageSink}, in the order written.
 *
 * @since 1.0.0
 */
public interface ImageSource {
    /**
     * @return every record of this source, unpacked as {@code type}
     * @throws CryoException (IMAGE) when a record is corrupt or of another type
     */
    <T extends Message> List<T> read(Class<T> type) throws CryoException;
}
