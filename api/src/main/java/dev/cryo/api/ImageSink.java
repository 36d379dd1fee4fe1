package dev.cryo.api;

import com.google.protobuf.Message;

/**
 * Where a plugin writes its own records. Core wraps each one in an envelope ({@code kind} + {@code Any}) and
 * appends it, length-delimited, to an image file; core never needs the plugin's schema.
 *
 * <p>Threading: the tracer thread, during the SPI call that handed it out.
 *
 * @since 1.0.0
 */
public interface ImageSink {
    /** Appends one record. An I/O failure is a {@link CryoException} of category IMAGE. */
    void write(Message record) throws CryoException;
}
