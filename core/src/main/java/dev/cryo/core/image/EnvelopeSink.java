package dev.cryo.core.image;

import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.ImageSink;

/**
 * The {@link ImageSink} core hands a plugin: each record is wrapped in an envelope of the plugin's kind and
 * appended to a record file of type {@link FileType#OBJECTS}, {@link FileType#MM} or
 * {@link FileType#EXTERNAL}. Several sinks (one per kind) may share one writer. Not thread-safe, like the writer.
 */
public final class EnvelopeSink implements ImageSink {
    private final String kind;
    private final RecordWriter writer;

    public EnvelopeSink(String kind, RecordWriter writer) {
        this.kind = kind;
        this.writer = writer;
    }

    @Override
    public void write(Message record) throws CryoException {
        writer.write(Envelopes.wrap(kind, record));
    }
}
