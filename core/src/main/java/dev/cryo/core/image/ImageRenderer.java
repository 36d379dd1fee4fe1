package dev.cryo.core.image;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.cryo.api.CryoException;
import dev.cryo.core.image.proto.Core;
import dev.cryo.core.image.proto.UndecodedAny;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Renders an image as text for {@code cryo show DIR}: for each file, in {@link ImageDir#files()} order
 * (inventory first), a header line {@code # <file> (<TYPE>, N records)} and then each record as pretty-printed
 * JSON (proto field names), every field shown (zero values too), with the decoded forms {@link RecordDecoder} adds
 * (named registers, hex addresses, flag and signal names, octal modes). {@code Any} payloads are decoded with the descriptors given (plugins supply theirs)
 * plus core's; one whose type none declares is shown as a {@code cryo.core.UndecodedAny} carrying its type URL
 * and byte count, never an error. Pages files are summarised ({@code # pages-1.img (PAGES, 8192 bytes, 2 pages)}),
 * never dumped.
 *
 * <p>Called once per {@code cryo show}, on the caller's thread. A damaged file stops the rendering with the
 * reader's {@link CryoException} after the files before it were written out.
 */
public final class ImageRenderer {
    private static final String ANY = "google.protobuf.Any";

    private final JsonFormat.TypeRegistry registry;
    private final JsonFormat.Printer printer;
    private final RecordDecoder decoder;
    /** Heap a record's JSON rendering takes, as a multiple of its encoded size (an estimate with a margin). */
    static final int JSON_HEAP_FACTOR = 16;
    /**
     * Heap each JSON value of a record's rendering takes besides its text (its tree node, key and value objects, the
     * decoded fields added next to it): measured with a core record of 20,000 mappings, which the byte factor alone
     * let through into an OutOfMemoryError at 100,000.
     */
    static final int JSON_NODE_BYTES = 400;

    private final com.google.gson.Gson gson = new com.google.gson.GsonBuilder().setPrettyPrinting()
            .disableHtmlEscaping().create();

    private ImageRenderer(List<Descriptor> types) {
        JsonFormat.TypeRegistry.Builder b = JsonFormat.TypeRegistry.newBuilder();
        b.add(Core.getDescriptor().getMessageTypes());
        b.add(types);
        this.registry = b.build();
        this.printer = JsonFormat.printer().usingTypeRegistry(registry).preservingProtoFieldNames()
                .alwaysPrintFieldsWithNoPresence();
        this.decoder = new RecordDecoder(registry);
    }

    /**
     * @param types descriptors of the records plugins pack into {@code Any}s (their {@code recordTypes()});
     *              each brings the other messages of its .proto file along
     * @param out   receives the text; an {@link IOException} from it becomes {@code core/SHOW_OUTPUT}
     */
    public static void render(ImageDir dir, List<Descriptor> types, Appendable out) throws CryoException {
        new ImageRenderer(types).renderAll(dir, out, name -> true);
    }

    /** As {@link #render(ImageDir, List, Appendable)}, for the files {@code include} accepts only. */
    public static void render(ImageDir dir, List<Descriptor> types, Appendable out,
                              java.util.function.Predicate<String> include) throws CryoException {
        new ImageRenderer(types).renderAll(dir, out, include);
    }

    private void renderAll(ImageDir dir, Appendable out, java.util.function.Predicate<String> include)
            throws CryoException {
        try {
            boolean first = true;
            for (String name : dir.files().stream().filter(include).toList()) {
                if (!first) {
                    out.append('\n');
                }
                first = false;
                FileType type = dir.fileType(name);
                if (!type.hasRecords()) {
                    try (PagesReader pages = dir.pagesReader(name)) {
                        long size = pages.dataSize();
                        out.append("# ").append(name).append(" (").append(type.name()).append(", ")
                                .append(Long.toString(size)).append(" bytes, ")
                                .append(Long.toString(size / ImageFormat.PAGE_SIZE)).append(" pages)\n");
                    }
                    continue;
                }
                List<? extends Message> records = dir.readAll(name, type,
                        type.recordType().orElseThrow().getParserForType());
                out.append("# ").append(name).append(" (").append(type.name()).append(", ")
                        .append(Integer.toString(records.size())).append(" records)\n");
                for (int i = 0; i < records.size(); i++) {
                    Message shown = decodeAnys(records.get(i));
                    checkHeap(dir, name, i, shown, Runtime.getRuntime().maxMemory());
                    com.google.gson.JsonObject json = com.google.gson.JsonParser.parseString(printer.print(shown))
                            .getAsJsonObject();
                    decoder.decorate(shown, json, false);
                    gson.toJson(json, out); // streamed: no second copy of the text
                    out.append('\n');
                }
            }
        } catch (IOException e) {
            throw new CryoException(CryoException.Category.INTERNAL, "core/SHOW_OUTPUT",
                    "writing the rendering of " + dir.path() + " failed: " + e.getMessage(), null, e);
        }
    }

    /**
     * Refuses, with a clean error, a record whose JSON rendering would not fit in {@code maxHeap}: its text, the tree
     * it is decorated in and the record itself take about {@value #JSON_HEAP_FACTOR} times its encoded size (a core
     * record with thousands of threads, or a damaged one claiming so), and the rest of the heap is needed too.
     */
    static void checkHeap(ImageDir dir, String name, int index, Message record, long maxHeap) throws CryoException {
        long need = (long) record.getSerializedSize() * JSON_HEAP_FACTOR + jsonValues(record) * JSON_NODE_BYTES;
        if (need > maxHeap / 2) {
            throw new CryoException(CryoException.Category.IMAGE, "core/RECORD_TOO_LARGE", "record " + index + " of "
                    + dir.path().resolve(name) + " is " + record.getSerializedSize() + " bytes: showing it as JSON "
                    + "needs about " + (need >> 20) + " MiB of heap, and cryo has " + (maxHeap >> 20) + " MiB",
                    "give cryo more heap (e.g. CRYO_JAVA_OPTS=-Xmx" + Math.max(1, (need * 2 >> 30) + 1) + "g), or read "
                            + "the image with `cryo show` without --json");
        }
    }

    /**
     * @return how many JSON values {@code message} renders as: every field of every message (zero values are shown
     *         too), every element of a repeated field, nested messages counted through
     */
    static long jsonValues(Message message) {
        long n = message.getDescriptorForType().getFields().size();
        for (Map.Entry<FieldDescriptor, Object> e : message.getAllFields().entrySet()) {
            FieldDescriptor field = e.getKey();
            boolean nested = field.getJavaType() == FieldDescriptor.JavaType.MESSAGE;
            if (field.isRepeated()) {
                List<?> values = (List<?>) e.getValue();
                n += values.size();
                if (nested) {
                    for (Object v : values) {
                        n += jsonValues((Message) v);
                    }
                }
            } else if (nested) {
                n += jsonValues((Message) e.getValue());
            }
        }
        return n;
    }

    /**
     * @return {@code message} with every {@code Any} whose type is unknown (or whose bytes do not parse) replaced
     *         by an {@code Any} of {@link UndecodedAny}, at any depth, also inside decodable {@code Any}s; the same
     *         instance when nothing needed replacing
     */
    private Message decodeAnys(Message message) {
        Message.Builder builder = null;
        for (Map.Entry<FieldDescriptor, Object> e : message.getAllFields().entrySet()) {
            FieldDescriptor field = e.getKey();
            if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                continue;
            }
            if (field.isRepeated()) {
                List<?> values = (List<?>) e.getValue();
                for (int i = 0; i < values.size(); i++) {
                    Message value = (Message) values.get(i);
                    Message decoded = decodeValue(value);
                    if (decoded != value) {
                        if (builder == null) {
                            builder = message.toBuilder();
                        }
                        builder.setRepeatedField(field, i, decoded);
                    }
                }
            } else {
                Message value = (Message) e.getValue();
                Message decoded = decodeValue(value);
                if (decoded != value) {
                    if (builder == null) {
                        builder = message.toBuilder();
                    }
                    builder.setField(field, decoded);
                }
            }
        }
        return builder == null ? message : builder.build();
    }

    private Message decodeValue(Message value) {
        Descriptor type = value.getDescriptorForType();
        return type.getFullName().equals(ANY) ? decodeAny(value) : decodeAnys(value);
    }

    private Message decodeAny(Message any) {
        Descriptor anyType = any.getDescriptorForType();
        FieldDescriptor urlField = anyType.findFieldByName("type_url");
        FieldDescriptor valueField = anyType.findFieldByName("value");
        String url = (String) any.getField(urlField);
        ByteString bytes = (ByteString) any.getField(valueField);
        Descriptor inner = registry.find(url.substring(url.lastIndexOf('/') + 1));
        if (inner == null) {
            return undecoded(any, url, bytes, "no descriptor given for this type (is the plugin that wrote it "
                    + "enabled?)");
        }
        DynamicMessage payload;
        try {
            payload = DynamicMessage.parseFrom(inner, bytes);
        } catch (InvalidProtocolBufferException e) {
            return undecoded(any, url, bytes, "does not parse as " + inner.getFullName() + ": " + e.getMessage());
        }
        Message decoded = decodeAnys(payload);
        if (decoded == payload) {
            return any;
        }
        return any.toBuilder().setField(valueField, decoded.toByteString()).build();
    }

    private static Message undecoded(Message any, String url, ByteString bytes, String reason) {
        UndecodedAny stand = UndecodedAny.newBuilder().setTypeUrl(url).setSize(bytes.size()).setReason(reason)
                .build();
        Descriptor anyType = any.getDescriptorForType();
        return any.newBuilderForType()
                .setField(anyType.findFieldByName("type_url"),
                        "type.googleapis.com/" + UndecodedAny.getDescriptor().getFullName())
                .setField(anyType.findFieldByName("value"), stand.toByteString())
                .build();
    }
}
