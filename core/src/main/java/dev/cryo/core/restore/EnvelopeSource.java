package dev.cryo.core.restore;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.ImageSource;
import dev.cryo.core.image.proto.Envelope;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** An {@link ImageSource} over envelopes already read from one image file. */
final class EnvelopeSource implements ImageSource {
    private final List<Envelope> envelopes;
    private final Path file;

    EnvelopeSource(List<Envelope> envelopes, Path file) {
        this.envelopes = envelopes;
        this.file = file;
    }

    @Override
    public <T extends Message> List<T> read(Class<T> type) throws CryoException {
        List<T> out = new ArrayList<>(envelopes.size());
        for (Envelope e : envelopes) {
            out.add(unpack(e.getRecord(), type, file));
        }
        return out;
    }

    static <T extends Message> T unpack(Any any, Class<T> type, Path file) throws CryoException {
        try {
            return any.unpack(type);
        } catch (InvalidProtocolBufferException e) {
            throw new CryoException(Category.IMAGE, "core/IMAGE_CORRUPT", file + ": record of type "
                    + any.getTypeUrl() + " cannot be read as " + type.getSimpleName() + ": " + e.getMessage());
        }
    }
}
