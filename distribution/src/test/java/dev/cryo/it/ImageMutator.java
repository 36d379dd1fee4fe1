package dev.cryo.it;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import dev.cryo.core.image.proto.ImageFileEntry;
import dev.cryo.core.image.proto.InventoryEntry;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;

/**
 * One random mutation of an image directory, for {@link ImageFuzzer}. Knows the layout of image files
 * ({@code dev.cryo.core.image.ImageFormat}): 12-byte header, then frames {@code u32 length | u32 crc32c | payload}
 * (pages files: a 4096-byte header with its own crc32c, page data, a crc32c per page). Mutations:
 * <ul>
 *   <li>raw, checksums left stale: bit flips, random bytes, truncation, a frame length set huge;</li>
 *   <li>structural, every frame (page) checksum still right and the inventory's recorded size fixed: two frames
 *       swapped, a frame duplicated or dropped, two pages swapped with their checksums; three times in four the
 *       inventory's record count and whole-file crc32c are left as the dump wrote them (stale: cryo must refuse the
 *       image), once in four they are recomputed too ({@code +digest}: every checksum right);</li>
 *   <li>semantic, every checksum recomputed, the inventory's included ({@link Mutation#checksummed()}): a varint
 *       field of a record (at any depth) set to a huge or boundary value, a length-delimited field repeated many
 *       times, a nested length field set huge, a pages header's data size set huge.</li>
 * </ul>
 * A mutation after which every checksum is right is invisible to cryo: restoring it may give a process that is
 * wrong, which cryo cannot know; it must still never crash cryo, hang, or leave a half-restored process.
 */
final class ImageMutator {
    private static final int HEADER = 12;
    private static final int PAGES_HEADER = 4096;
    private static final long[] BOUNDARY = {0, 1, -1L, 0x7fffffffL, 0x80000000L, 0xffffffffL, 1L << 40, 1L << 62,
        Long.MAX_VALUE, Long.MIN_VALUE, 0xfffffffffffff000L};

    /**
     * What was done, for the report; {@code checksummed}: every checksum matches, the inventory's whole-file ones
     * included (a structural mutation with them recomputed, or a semantic one), so no reader can tell it from a real
     * image.
     */
    record Mutation(String kind, String file, String detail, boolean checksummed) {
        @Override
        public String toString() {
            return kind + " " + file + " " + detail;
        }
    }

    private final Random random;

    ImageMutator(Random random) {
        this.random = random;
    }

    /** Applies one mutation to one file of {@code image} (a copy: it is changed in place). */
    Mutation mutate(Path image) throws IOException {
        List<Path> files;
        try (var s = Files.list(image)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".img"))
                    .filter(p -> !p.getFileName().toString().startsWith("stats-")).sorted().toList();
        }
        Path file = files.get(random.nextInt(files.size()));
        boolean pages = file.getFileName().toString().startsWith("pages-");
        byte[] bytes = Files.readAllBytes(file);
        int kind = random.nextInt(pages ? 5 : 10);
        return switch (kind) {
            case 0 -> bitFlips(file, bytes);
            case 1 -> randomBytes(file, bytes);
            case 2 -> truncate(file, bytes);
            case 3 -> pages ? pagesDataSize(image, file, bytes) : hugeFrameLength(file, bytes);
            case 4 -> pages ? swapPages(image, file, bytes) : swapFrames(image, file, bytes);
            case 5 -> duplicateFrame(image, file, bytes);
            case 6 -> dropFrame(image, file, bytes);
            case 7, 8 -> varintField(image, file, bytes);
            default -> repeatOrLengthField(image, file, bytes);
        };
    }

    private Mutation bitFlips(Path file, byte[] b) throws IOException {
        int n = 1 + random.nextInt(4);
        StringBuilder at = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int off = random.nextInt(b.length);
            int bit = random.nextInt(8);
            b[off] ^= (byte) (1 << bit);
            at.append(i == 0 ? "" : ",").append(off).append(':').append(bit);
        }
        Files.write(file, b);
        return new Mutation("bit-flip", name(file), "at " + at, false);
    }

    private Mutation randomBytes(Path file, byte[] b) throws IOException {
        int len = 1 + random.nextInt(Math.min(64, b.length));
        int off = random.nextInt(b.length - len + 1);
        byte[] r = new byte[len];
        random.nextBytes(r);
        System.arraycopy(r, 0, b, off, len);
        Files.write(file, b);
        return new Mutation("random-bytes", name(file), len + " at " + off, false);
    }

    private Mutation truncate(Path file, byte[] b) throws IOException {
        int to = random.nextInt(4) == 0 ? 0 : random.nextInt(b.length);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(to);
        }
        return new Mutation("truncate", name(file), b.length + " -> " + to, false);
    }

    private Mutation hugeFrameLength(Path file, byte[] b) throws IOException {
        List<int[]> frames = frames(b);
        if (frames.isEmpty()) {
            return bitFlips(file, b);
        }
        int[] f = frames.get(random.nextInt(frames.size()));
        long[] values = {0xffffffffL, 0x7fffffffL, 64L << 20, (64L << 20) - 1, b.length, f[1] + 1L};
        long v = values[random.nextInt(values.length)];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(f[0], (int) v);
        Files.write(file, b);
        return new Mutation("huge-frame-length", name(file), "frame at " + f[0] + " length " + f[1] + " -> " + v,
                false);
    }

    private Mutation swapFrames(Path image, Path file, byte[] b) throws IOException {
        List<int[]> frames = frames(b);
        if (frames.size() < 2) {
            return duplicateFrame(image, file, b);
        }
        int i = random.nextInt(frames.size());
        int j = random.nextInt(frames.size() - 1);
        if (j >= i) {
            j++;
        }
        List<byte[]> list = frameBytes(b, frames);
        byte[] t = list.get(i);
        list.set(i, list.get(j));
        list.set(j, t);
        boolean digest = digest();
        write(image, file, b, list, digest);
        return new Mutation("swap-records" + (digest ? "+digest" : ""), name(file),
                i + "<->" + j + " of " + frames.size(), digest);
    }

    /** Two pages swapped together with their entries in the checksum table (every page checksum still right). */
    private Mutation swapPages(Path image, Path file, byte[] b) throws IOException {
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long data = b.length < PAGES_HEADER ? 0 : h.getLong(24);
        long pages = data / 4096;
        if (pages < 2 || PAGES_HEADER + data + pages * 4 != b.length) {
            return bitFlips(file, b);
        }
        int i = random.nextInt((int) pages);
        int j = random.nextInt((int) pages - 1);
        if (j >= i) {
            j++;
        }
        swap(b, PAGES_HEADER + i * 4096, PAGES_HEADER + j * 4096, 4096);
        int table = PAGES_HEADER + (int) data;
        swap(b, table + i * 4, table + j * 4, 4);
        Files.write(file, b);
        boolean digest = digest();
        fixInventory(image, file, digest);
        return new Mutation("swap-pages" + (digest ? "+digest" : ""), name(file), i + "<->" + j + " of " + pages,
                digest);
    }

    private static void swap(byte[] b, int i, int j, int len) {
        byte[] t = java.util.Arrays.copyOfRange(b, i, i + len);
        System.arraycopy(b, j, b, i, len);
        System.arraycopy(t, 0, b, j, len);
    }

    /** @return whether a structural mutation recomputes the inventory's whole-file checksums too (one in four) */
    private boolean digest() {
        return random.nextInt(4) == 0;
    }

    private Mutation duplicateFrame(Path image, Path file, byte[] b) throws IOException {
        return duplicateOrDrop(image, file, b, true);
    }

    private Mutation dropFrame(Path image, Path file, byte[] b) throws IOException {
        return duplicateOrDrop(image, file, b, false);
    }

    /** One record duplicated (inserted again at a random place) or dropped; every checksum still right. */
    private Mutation duplicateOrDrop(Path image, Path file, byte[] b, boolean duplicate) throws IOException {
        Picked p = pick(b);
        if (p == null) {
            return bitFlips(file, b);
        }
        List<byte[]> list = p.frames();
        int count = list.size();
        if (duplicate) {
            list.add(random.nextInt(count + 1), list.get(p.index()));
        } else {
            list.remove(p.index());
        }
        boolean digest = digest();
        write(image, file, b, list, digest);
        return new Mutation((duplicate ? "duplicate-record" : "drop-record") + (digest ? "+digest" : ""), name(file),
                p.index() + " of " + count, digest);
    }

    /**
     * Drops record {@code index} of {@code file}, every checksum redone (the inventory's size, record count and
     * whole-file crc32c included when {@code digest}; else only the size, leaving the whole-file checksum stale).
     */
    static void dropRecord(Path image, Path file, int index, boolean digest) throws IOException {
        byte[] b = Files.readAllBytes(file);
        List<byte[]> list = new java.util.ArrayList<>(frameBytes(b, frames(b)));
        list.remove(index);
        write(image, file, b, list, digest);
    }

    /** Swaps records {@code i} and {@code j} of {@code file}, the inventory's size fixed, its whole-file crc32c not. */
    static void swapRecords(Path image, Path file, int i, int j) throws IOException {
        byte[] b = Files.readAllBytes(file);
        List<byte[]> list = new java.util.ArrayList<>(frameBytes(b, frames(b)));
        byte[] t = list.get(i);
        list.set(i, list.get(j));
        list.set(j, t);
        write(image, file, b, list, false);
    }

    /** Inserts a copy of record {@code i} of {@code file} after it, the inventory's size fixed, its crc32c not. */
    static void duplicateRecord(Path image, Path file, int i) throws IOException {
        byte[] b = Files.readAllBytes(file);
        List<byte[]> list = new java.util.ArrayList<>(frameBytes(b, frames(b)));
        list.add(i + 1, list.get(i));
        write(image, file, b, list, false);
    }

    /** A varint somewhere in one record (descending into nested messages) set to a boundary or random value. */
    private Mutation varintField(Path image, Path file, byte[] b) throws IOException {
        Picked p = pick(b);
        if (p == null) {
            return bitFlips(file, b);
        }
        int i = p.index();
        List<byte[]> list = p.frames();
        ByteString payload = p.payload();
        long value = random.nextInt(3) == 0 ? random.nextLong() : BOUNDARY[random.nextInt(BOUNDARY.length)];
        StringBuilder path = new StringBuilder();
        ByteString changed = editVarint(payload, value, path, 0);
        if (changed == null) {
            return bitFlips(file, b);
        }
        list.set(i, frame(changed));
        write(image, file, b, list, true);
        return new Mutation("varint-field", name(file), "record " + i + " field " + path + " = " + value, true);
    }

    private Mutation repeatOrLengthField(Path image, Path file, byte[] b) throws IOException {
        Picked p = pick(b);
        if (p == null) {
            return bitFlips(file, b);
        }
        UnknownFieldSet set = parse(p.payload());
        List<Integer> delimited = set == null ? List.of() : set.asMap().entrySet().stream()
                .filter(e -> !e.getValue().getLengthDelimitedList().isEmpty()).map(e -> e.getKey()).toList();
        if (delimited.isEmpty()) {
            return varintField(image, file, b);
        }
        int field = delimited.get(random.nextInt(delimited.size()));
        UnknownFieldSet.Field f = set.getField(field);
        ByteString element = f.getLengthDelimitedList().get(random.nextInt(f.getLengthDelimitedList().size()));
        ByteString out;
        String detail;
        if (random.nextBoolean()) {
            int times = 1000 + random.nextInt(20000);
            UnknownFieldSet.Field.Builder more = UnknownFieldSet.Field.newBuilder().mergeFrom(f);
            for (int k = 0; k < times && (long) k * element.size() < (16 << 20); k++) {
                more.addLengthDelimited(element);
            }
            out = UnknownFieldSet.newBuilder(set).addField(field, more.build()).build().toByteString();
            detail = "record " + p.index() + " field " + field + " repeated " + times + " more times";
        } else {
            // a length prefix that claims far more than follows: the field's own bytes with a huge varint length
            ByteString rest = set.toByteString();
            ByteString.Output o = ByteString.newOutput();
            writeVarint(o, ((long) field << 3) | 2);
            long claimed = BOUNDARY[3 + random.nextInt(BOUNDARY.length - 3)];
            writeVarint(o, claimed);
            o.write(element.toByteArray(), 0, element.size());
            out = rest.concat(o.toByteString());
            detail = "record " + p.index() + " field " + field + " length " + claimed + " (" + element.size()
                    + " follow)";
        }
        p.frames().set(p.index(), frame(out));
        write(image, file, b, p.frames(), true);
        return new Mutation("length-field", name(file), detail, true);
    }

    private Mutation pagesDataSize(Path image, Path file, byte[] b) throws IOException {
        if (b.length < 36) {
            return bitFlips(file, b);
        }
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long[] values = {Long.MAX_VALUE & ~4095L, 1L << 40, h.getLong(24) + 4096, h.getLong(24) - 4096, 4096, -4096};
        long v = values[random.nextInt(values.length)];
        h.putLong(24, v);
        CRC32C crc = new CRC32C();
        crc.update(b, 0, 32);
        h.putInt(32, (int) crc.getValue());
        Files.write(file, b);
        return new Mutation("pages-data-size", name(file), "data size " + v, true);
    }

    // ---- frames ----

    /** The frames of a record file as bytes (header and payload), and one of them picked at random. */
    private record Picked(List<byte[]> frames, int index) {
        /** @return the picked frame's payload (after its length and checksum) */
        ByteString payload() {
            byte[] f = frames.get(index);
            return ByteString.copyFrom(f, 8, f.length - 8);
        }
    }

    /** @return the file's frames with one picked, or null when it has none */
    private Picked pick(byte[] b) {
        List<int[]> frames = frames(b);
        return frames.isEmpty() ? null : new Picked(frameBytes(b, frames), random.nextInt(frames.size()));
    }

    /** @return {offset, length} of each whole frame after the header (stops at the first that does not fit) */
    private static List<int[]> frames(byte[] b) {
        List<int[]> out = new ArrayList<>();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int off = HEADER;
        while (off + 8 <= b.length) {
            long len = Integer.toUnsignedLong(bb.getInt(off));
            if (off + 8 + len > b.length) {
                break;
            }
            out.add(new int[] {off, (int) len});
            off += 8 + (int) len;
        }
        return out;
    }

    private static List<byte[]> frameBytes(byte[] b, List<int[]> frames) {
        List<byte[]> out = new ArrayList<>();
        for (int[] f : frames) {
            byte[] x = new byte[8 + f[1]];
            System.arraycopy(b, f[0], x, 0, x.length);
            out.add(x);
        }
        return out;
    }

    private static byte[] frame(ByteString payload) {
        CRC32C crc = new CRC32C();
        byte[] p = payload.toByteArray();
        crc.update(p);
        ByteBuffer out = ByteBuffer.allocate(8 + p.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(p.length).putInt((int) crc.getValue()).put(p);
        return out.array();
    }

    /**
     * Writes the header and {@code frames}, and records the new size in the inventory (another file only), and with
     * {@code digest} the new record count and whole-file crc32c too.
     */
    private static void write(Path image, Path file, byte[] original, List<byte[]> frames, boolean digest)
            throws IOException {
        ByteString.Output o = ByteString.newOutput();
        o.write(original, 0, HEADER);
        for (byte[] f : frames) {
            o.write(f, 0, f.length);
        }
        Files.write(file, o.toByteString().toByteArray());
        fixInventory(image, file, digest);
    }

    /**
     * Records {@code file}'s size in the inventory and, with {@code digest}, its record count and crc32c (of the whole
     * file; for a pages file, of its checksum table) as a dump would have; fields the inventory lacks stay unset.
     */
    private static void fixInventory(Path image, Path file, boolean digest) throws IOException {
        Path inventory = image.resolve("inventory.img");
        if (file.equals(inventory) || !Files.exists(inventory)) {
            return;
        }
        byte[] b = Files.readAllBytes(inventory);
        List<int[]> frames = frames(b);
        if (frames.size() != 1) {
            return;
        }
        InventoryEntry inv;
        try {
            inv = InventoryEntry.parseFrom(ByteString.copyFrom(b, frames.get(0)[0] + 8, frames.get(0)[1]));
        } catch (InvalidProtocolBufferException e) {
            return;
        }
        InventoryEntry.Builder nb = inv.toBuilder();
        for (int i = 0; i < nb.getFileDetailsCount(); i++) {
            ImageFileEntry d = nb.getFileDetails(i);
            if (d.getName().equals(name(file))) {
                ImageFileEntry.Builder db = d.toBuilder().setSize(Files.size(file));
                if (digest) {
                    byte[] content = Files.readAllBytes(file);
                    CRC32C crc = new CRC32C();
                    if (name(file).startsWith("pages-")) {
                        long data = ByteBuffer.wrap(content).order(ByteOrder.LITTLE_ENDIAN).getLong(24);
                        crc.update(content, PAGES_HEADER + (int) data, content.length - PAGES_HEADER - (int) data);
                    } else {
                        crc.update(content);
                        if (d.hasRecords()) {
                            db.setRecords(frames(content).size());
                        }
                    }
                    if (d.hasCrc32C()) {
                        db.setCrc32C((int) crc.getValue());
                    }
                }
                nb.setFileDetails(i, db);
            }
        }
        ByteString.Output o = ByteString.newOutput();
        o.write(b, 0, HEADER);
        byte[] f = frame(nb.build().toByteString());
        o.write(f, 0, f.length);
        Files.write(inventory, o.toByteString().toByteArray());
    }

    // ---- protobuf wire format, without descriptors (plugin records are opaque here) ----

    private static UnknownFieldSet parse(ByteString b) {
        try {
            UnknownFieldSet s = UnknownFieldSet.parseFrom(b);
            return s.toByteString().size() == b.size() ? s : null;
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }

    /** Sets one varint (chosen at random, possibly in a nested message) to {@code value}; null when none. */
    private ByteString editVarint(ByteString message, long value, StringBuilder path, int depth) {
        UnknownFieldSet set = parse(message);
        if (set == null || set.asMap().isEmpty()) {
            return null;
        }
        List<Integer> numbers = new ArrayList<>(set.asMap().keySet());
        for (int attempt = 0; attempt < 4; attempt++) {
            int n = numbers.get(random.nextInt(numbers.size()));
            UnknownFieldSet.Field f = set.getField(n);
            boolean nested = !f.getLengthDelimitedList().isEmpty() && depth < 6
                    && (f.getVarintList().isEmpty() || random.nextBoolean());
            if (nested) {
                List<ByteString> items = new ArrayList<>(f.getLengthDelimitedList());
                int k = random.nextInt(items.size());
                int mark = path.length();
                path.append(n).append('[').append(k).append("].");
                ByteString inner = editVarint(items.get(k), value, path, depth + 1);
                if (inner != null) {
                    items.set(k, inner);
                    return replace(set, n, field(f.getVarintList(), items));
                }
                path.setLength(mark);
            } else if (!f.getVarintList().isEmpty()) {
                List<Long> items = new ArrayList<>(f.getVarintList());
                int k = random.nextInt(items.size());
                items.set(k, value);
                path.append(n).append('[').append(k).append(']');
                return replace(set, n, field(items, f.getLengthDelimitedList()));
            }
        }
        return null;
    }

    /** A field with these varints and length-delimited values (fixed-width ones of a varint field are not kept). */
    private static UnknownFieldSet.Field field(List<Long> varints, List<ByteString> delimited) {
        UnknownFieldSet.Field.Builder b = UnknownFieldSet.Field.newBuilder();
        varints.forEach(b::addVarint);
        delimited.forEach(b::addLengthDelimited);
        return b.build();
    }

    private static ByteString replace(UnknownFieldSet set, int number, UnknownFieldSet.Field field) {
        return UnknownFieldSet.newBuilder(set).clearField(number).addField(number, field).build().toByteString();
    }

    private static void writeVarint(ByteString.Output o, long v) {
        while ((v & ~0x7fL) != 0) {
            o.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        o.write((int) v);
    }

    private static String name(Path file) {
        return file.getFileName().toString();
    }
}
