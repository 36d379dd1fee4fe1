package dev.cryo.core.image;

import dev.cryo.api.CryoException;
import dev.cryo.api.ImageSource;
import dev.cryo.core.image.proto.Envelope;

import com.google.protobuf.Message;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@link ImageSource} core hands a plugin on restore: the envelopes of one kind from one file, in the order
 * written, unpacked on demand. Immutable; any thread.
 */
public final class EnvelopeSource implements ImageSource {
    private final String kind;
    private final String fileName;
    private final List<Envelope> envelopes;
    private final List<Integer> indexes;

    /**
     * @param envelopes every record of {@code fileName}; only those of {@code kind} are kept
     */
    public EnvelopeSource(String kind, String fileName, List<Envelope> envelopes) {
        this.kind = kind;
        this.fileName = fileName;
        List<Envelope> mine = new ArrayList<>();
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < envelopes.size(); i++) {
            if (envelopes.get(i).getKind().equals(kind)) {
                mine.add(envelopes.get(i));
                idx.add(i);
            }
        }
        this.envelopes = List.copyOf(mine);
        this.indexes = List.copyOf(idx);
    }

    /** Reads {@code fileName} from {@code dir} and keeps the envelopes of {@code kind}. */
    public static EnvelopeSource read(ImageDir dir, String fileName, FileType type, String kind) throws CryoException {
        try (RecordReader reader = dir.reader(fileName, type)) {
            return new EnvelopeSource(kind, fileName, reader.readAll(Envelope.parser()));
        }
    }

    @Override
    public <T extends Message> List<T> read(Class<T> type) throws CryoException {
        List<T> records = new ArrayList<>(envelopes.size());
        for (int i = 0; i < envelopes.size(); i++) {
            records.add(Envelopes.unwrap(envelopes.get(i), type, fileName + " record " + indexes.get(i)));
        }
        return records;
    }

    /** @return how many records of this kind the file holds */
    public int size() {
        return envelopes.size();
    }

    public String kind() {
        return kind;
    }
}
