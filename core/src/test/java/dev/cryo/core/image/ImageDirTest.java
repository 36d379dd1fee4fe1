package dev.cryo.core.image;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.image.proto.CoreEntry;
import dev.cryo.core.image.proto.Envelope;
import dev.cryo.core.image.proto.FdinfoEntry;
import dev.cryo.core.image.proto.InventoryEntry;
import dev.cryo.core.image.proto.PluginRef;
import dev.cryo.core.image.proto.PstreeEntry;
import dev.cryo.core.image.proto.ThreadCoreEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageDirTest {
    @TempDir
    Path tmp;

    static final List<PstreeEntry> PSTREE = List.of(
            PstreeEntry.newBuilder().setPid(100).setPpid(1).setPgid(100).setSid(100).addThreads(100).addThreads(101)
                    .build(),
            PstreeEntry.newBuilder().setPid(102).setPpid(100).setPgid(100).setSid(100).addThreads(102).build());

    static CoreEntry core(int pid) {
        return CoreEntry.newBuilder().setPid(pid).setComm("worker-" + pid).setCwd("/srv").setUmask(022)
                .addThreads(ThreadCoreEntry.newBuilder().setTid(pid).setXsave(ByteString.copyFrom(new byte[64]))
                        .addGpregs(0x401000).addGpregs(0x7ffc0000))
                .build();
    }

    static FdinfoEntry fd(int n) {
        return FdinfoEntry.newBuilder().setFd(n).setKind("pipe")
                .setRecord(Any.pack(PluginRef.newBuilder().setId("pipe-" + n).build())).build();
    }

    static InventoryEntry inventory() {
        return InventoryEntry.newBuilder().setCryoVersion("0.1.0").setSpiVersion("1.0.0").setRootPid(100)
                .addPlugins(PluginRef.newBuilder().setId("pipe").setVersion("0.1.0")).setKernel("6.18")
                .setCreatedUnixMs(1).build();
    }

    /** A complete image: pstree, core-100, fdinfo-100, pages-100 (3 pages), inventory. */
    Path writeImage(Path dir) throws Exception {
        ImageDir image = ImageDir.create(dir, false);
        try (RecordWriter w = image.writer("pstree.img", FileType.PSTREE)) {
            for (PstreeEntry e : PSTREE) {
                w.write(e);
            }
        }
        try (RecordWriter w = image.writer("core-100.img", FileType.CORE)) {
            w.write(core(100));
        }
        try (RecordWriter w = image.writer("fdinfo-100.img", FileType.FDINFO)) {
            w.write(fd(0));
            w.write(fd(1));
            w.write(fd(7));
        }
        try (PagesWriter p = image.pagesWriter("pages-100.img")) {
            assertEquals(0, p.append(pattern(2, 1)));
            assertEquals(2 * 4096, p.append(pattern(1, 3)));
        }
        image.writeInventory(inventory());
        return dir;
    }

    /** {@code pages} pages of bytes (seed + i) in a direct buffer. */
    static ByteBuffer pattern(int pages, int seed) {
        ByteBuffer b = ByteBuffer.allocateDirect(pages * 4096);
        for (int i = 0; i < b.capacity(); i++) {
            b.put(i, (byte) (seed + i * 31));
        }
        return b;
    }

    static CryoException expectImageError(String code, ThrowingRunnable r) {
        CryoException e = assertThrows(CryoException.class, r::run);
        assertEquals(Category.IMAGE, e.category(), e.render());
        assertEquals(code, e.code(), e.render());
        return e;
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void recordsRoundTrip() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        ImageDir image = ImageDir.open(dir);
        assertEquals(List.of("inventory.img", "core-100.img", "fdinfo-100.img", "pages-100.img", "pstree.img"),
                image.files());
        InventoryEntry inv = image.inventory();
        assertEquals(ImageFormat.FORMAT_VERSION, inv.getFormatVersion());
        assertEquals(100, inv.getRootPid());
        assertEquals(List.of("core-100.img", "fdinfo-100.img", "pages-100.img", "pstree.img"), inv.getFilesList());
        assertEquals(4, inv.getFileDetailsCount());
        assertEquals(Files.size(dir.resolve("pages-100.img")), inv.getFileDetails(2).getSize());

        assertEquals(PSTREE, image.readAll("pstree.img", FileType.PSTREE, PstreeEntry.parser()));
        assertEquals(List.of(core(100)), image.readAll("core-100.img", FileType.CORE, CoreEntry.parser()));
        try (RecordReader r = image.reader("fdinfo-100.img", FileType.FDINFO)) {
            assertEquals(fd(0), r.next(FdinfoEntry.parser()));
            assertEquals(1, r.recordsRead());
            assertEquals(List.of(fd(1), fd(7)), r.readAll(FdinfoEntry.parser()));
            assertNull(r.next(FdinfoEntry.parser()));
        }
        assertEquals("pipe-7", Envelopes.unpack(fd(7).getRecord(), PluginRef.class, "fdinfo-100.img record 2")
                .getId());
        assertEquals(FileType.PAGES, image.fileType("pages-100.img"));
        assertTrue(image.exists("core-100.img"));
        assertFalse(image.exists("core-101.img"));
        assertFalse(image.exists("../img/core-100.img"));
    }

    @Test
    void pagesRoundTrip() throws Exception {
        ImageDir image = ImageDir.create(tmp.resolve("img"), false);
        List<Long> offsets = new ArrayList<>();
        try (PagesWriter p = image.pagesWriter("pages-1.img")) {
            for (int i = 0; i < 5; i++) {
                ByteBuffer chunk = pattern(i + 1, i);
                offsets.add(p.append(chunk));
                assertFalse(chunk.hasRemaining());
            }
            assertEquals(15 * 4096, p.dataSize());
        }
        assertEquals(List.of(0L, 4096L, 3 * 4096L, 6 * 4096L, 10 * 4096L), offsets);
        assertEquals(4096 + 15 * 4096 + 15 * 4, Files.size(image.path().resolve("pages-1.img")), "header, data, crcs");
        try (PagesReader r = image.pagesReader("pages-1.img")) {
            assertEquals(15 * 4096, r.dataSize());
            for (int i = 0; i < 5; i++) {
                ByteBuffer got = ByteBuffer.allocateDirect((i + 1) * 4096);
                r.read(offsets.get(i), got);
                assertFalse(got.hasRemaining());
                assertEquals(pattern(i + 1, i), got.flip(), "chunk " + i);
            }
            // a sub-range inside a chunk, into a heap buffer
            ByteBuffer part = ByteBuffer.allocate(100);
            r.read(offsets.get(3) + 5000, part);
            ByteBuffer want = pattern(4, 3).position(5000).limit(5100);
            assertEquals(want, part.flip());
        }
    }

    @Test
    void permissionsAre0700And0600() throws Exception {
        Path dir = writeImage(tmp.resolve("a/b/img"));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.getParent())));
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> all = files.toList();
            assertEquals(5, all.size());
            for (Path f : all) {
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)),
                        f.toString());
            }
        }
    }

    @Test
    void nonEmptyDirectoryIsRefused() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("img"));
        Files.writeString(dir.resolve("notes.txt"), "keep me");
        CryoException e = assertThrows(CryoException.class, () -> ImageDir.create(dir, false));
        assertEquals(Category.USAGE, e.category());
        assertEquals("core/IMAGE_DIR_NOT_EMPTY", e.code());
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
        assertEquals("use an empty directory or pass --overwrite-images", e.fix());
        assertEquals("keep me", Files.readString(dir.resolve("notes.txt")));
    }

    @Test
    void emptyExistingDirectoryIsAccepted() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("img"));
        writeImage(dir);
        assertEquals(100, ImageDir.open(dir).inventory().getRootPid());
    }

    @Test
    void overwriteDeletesOnlyImageFiles() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        Files.writeString(dir.resolve("notes.txt"), "keep me");
        ImageDir image = ImageDir.create(dir, true);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(dir.resolve("notes.txt")), files.toList());
        }
        try (RecordWriter w = image.writer("pstree.img", FileType.PSTREE)) {
            w.write(PSTREE.get(0));
        }
        image.writeInventory(inventory());
        assertEquals(List.of("inventory.img", "pstree.img"), ImageDir.open(dir).files());
    }

    @Test
    void pathThatIsAFileIsRefused() throws Exception {
        Path file = Files.writeString(tmp.resolve("img"), "x");
        CryoException e = assertThrows(CryoException.class, () -> ImageDir.create(file, true));
        assertEquals("core/IMAGE_DIR_NOT_DIRECTORY", e.code());
    }

    @Test
    void flippedByteAnywhereIsDetected() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        for (String name : List.of("pstree.img", "core-100.img", "fdinfo-100.img")) {
            Path file = dir.resolve(name);
            byte[] original = Files.readAllBytes(file);
            for (int i = 0; i < original.length; i++) {
                byte[] flipped = original.clone();
                flipped[i] ^= 0x10;
                Files.write(file, flipped);
                CryoException e = assertThrows(CryoException.class, () -> {
                    ImageDir image = ImageDir.open(dir);
                    for (String f : image.files()) {
                        FileType type = image.fileType(f);
                        if (type.hasRecords()) {
                            image.readAll(f, type, type.recordType().orElseThrow().getParserForType());
                        }
                    }
                }, name + " byte " + i);
                assertEquals(Category.IMAGE, e.category(), e.render());
                String expectedCode = i >= 4 && i < 8 ? "core/IMAGE_VERSION" : "core/IMAGE_CORRUPT";
                assertEquals(expectedCode, e.code(), name + " byte " + i + ": " + e.render());
                assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
                if (i >= ImageFormat.RECORD_HEADER_BYTES) {
                    assertTrue(e.getMessage().matches(".*record \\d+ at offset \\d+.*"), e.getMessage());
                }
            }
            Files.write(file, original);
        }
        ImageDir.open(dir); // intact again
    }

    @Test
    void flippedByteInInventoryIsDetected() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        Path file = dir.resolve("inventory.img");
        byte[] original = Files.readAllBytes(file);
        for (int i = 0; i < original.length; i++) {
            byte[] flipped = original.clone();
            flipped[i] ^= 0x01;
            Files.write(file, flipped);
            CryoException e = assertThrows(CryoException.class, () -> ImageDir.open(dir), "byte " + i);
            assertEquals(Category.IMAGE, e.category(), e.render());
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    @Test
    void flippedPagesHeaderIsDetected() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        Path file = dir.resolve("pages-100.img");
        ImageDir image = ImageDir.open(dir);
        for (int i : new int[] {0, 3, 8, 12, 16, 20, 24, 31, 33}) {
            flip(file, i);
            CryoException e = assertThrows(CryoException.class, () -> image.pagesReader("pages-100.img").close(),
                    "byte " + i);
            assertEquals(Category.IMAGE, e.category(), e.render());
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            flip(file, i);
        }
        image.pagesReader("pages-100.img").close();
    }

    @Test
    void truncatedRecordFileIsDetected() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        Path file = dir.resolve("fdinfo-100.img");
        long size = Files.size(file);
        truncate(file, size - 3);
        CryoException e = expectImageError("core/IMAGE_TRUNCATED", () -> ImageDir.open(dir));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(Long.toString(size)), e.getMessage());

        // without the inventory's size the frame tells: the file ends inside record 2
        try (RecordReader r = RecordReader.open(file, FileType.FDINFO, false)) {
            e = expectImageError("core/IMAGE_TRUNCATED", () -> r.readAll(FdinfoEntry.parser()));
            assertTrue(e.getMessage().contains("record 2 at offset"), e.getMessage());
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
        // cut at a frame boundary: only the inventory can tell
        ImageDir fresh = ImageDir.create(tmp.resolve("img2"), false);
        try (RecordWriter w = fresh.writer("pstree.img", FileType.PSTREE)) {
            w.write(PSTREE.get(0));
        }
        long oneRecord = Files.size(fresh.path().resolve("pstree.img"));
        Files.delete(fresh.path().resolve("pstree.img"));
        fresh.discard();
        Path dir2 = writeImage(tmp.resolve("img2"));
        truncate(dir2.resolve("pstree.img"), oneRecord);
        expectImageError("core/IMAGE_TRUNCATED", () -> ImageDir.open(dir2));
        // a header cut short
        truncate(dir2.resolve("pstree.img"), 5);
        expectImageError("core/IMAGE_TRUNCATED",
                () -> RecordReader.open(dir2.resolve("pstree.img"), FileType.PSTREE, false).close());
    }

    @Test
    void hugeOffsetsAndLengthsFromRecordsCannotOverflowPastTheRangeCheck() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        try (PagesReader r = ImageDir.open(dir).pagesReader("pages-100.img")) {
            expectImageError("core/IMAGE_TRUNCATED", () -> r.checkRange(Long.MAX_VALUE - 4095, 8192));
            expectImageError("core/IMAGE_TRUNCATED", () -> r.checkRange(4096, Long.MAX_VALUE));
            expectImageError("core/IMAGE_TRUNCATED",
                    () -> r.read(Long.MAX_VALUE & -4096L, ByteBuffer.allocateDirect(4096)));
            r.checkRange(0, r.dataSize());
        }
    }

    @Test
    void truncatedPagesFileIsDetected() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        Path file = dir.resolve("pages-100.img");
        ImageDir image = ImageDir.open(dir);
        try (PagesReader r = image.pagesReader("pages-100.img")) {
            // a read past the data names file, offset and size
            CryoException e = expectImageError("core/IMAGE_TRUNCATED",
                    () -> r.read(2 * 4096, ByteBuffer.allocateDirect(2 * 4096)));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("data offset 8192"), e.getMessage());
            assertTrue(e.getMessage().contains("file size " + (4 * 4096 + 3 * 4)), e.getMessage());
        }
        truncate(file, 4096 + 2 * 4096 + 100);
        CryoException e = expectImageError("core/IMAGE_TRUNCATED", () -> ImageDir.open(dir));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        // without the inventory: the header's data size tells
        e = expectImageError("core/IMAGE_TRUNCATED", () -> PagesReader.open(file, null).close());
        assertTrue(e.getMessage().contains("12288 bytes of page data"), e.getMessage());
        // an ImageDir opened before the truncation checks the size again
        expectImageError("core/IMAGE_TRUNCATED", () -> image.pagesReader("pages-100.img").close());
    }

    @Test
    void flippedPageByteIsDetectedWithItsOffset() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        Path file = dir.resolve("pages-100.img");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, 4096 + 2 * 4096 + 77);
            b.put(0, (byte) (b.get(0) ^ 0x10)).rewind();
            ch.write(b, 4096 + 2 * 4096 + 77);
        }
        try (PagesReader r = ImageDir.open(dir).pagesReader("pages-100.img")) {
            assertTrue(r.checksummed());
            r.read(0, ByteBuffer.allocateDirect(2 * 4096)); // the pages before are fine
            CryoException e = expectImageError("core/IMAGE_CORRUPT", () -> r.read(4096, ByteBuffer.allocateDirect(2 * 4096)));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("data offset 8192 (file offset 12288, page 2)"), e.getMessage());
            // a read of a few bytes checks the page around them
            expectImageError("core/IMAGE_CORRUPT", () -> r.read(2 * 4096 + 10, ByteBuffer.allocate(5)));
            e = expectImageError("core/IMAGE_CORRUPT", r::verifyAll);
            assertTrue(e.getMessage().contains("data offset 8192"), e.getMessage());
        }
    }

    @Test
    void pagesFileOfAnOlderCryoHasNoChecksumsAndStillReads() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        Path file = dir.resolve("pages-100.img");
        // the format before checksums: flags 0, no table after the data (header crc recomputed)
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.truncate(4096 + 3 * 4096);
            ByteBuffer h = ByteBuffer.allocate(36).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(h, 0);
            h.putInt(20, 0);
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(h.array(), 0, 32);
            h.putInt(32, (int) crc.getValue()).rewind();
            ch.write(h, 0);
        }
        try (PagesReader r = PagesReader.open(file, null)) {
            assertFalse(r.checksummed());
            assertEquals(0, r.verifyAll());
            ByteBuffer got = ByteBuffer.allocateDirect(3 * 4096);
            r.read(0, got);
            assertFalse(got.hasRemaining());
        }
    }

    @Test
    void pagesFileShrinkingUnderAReaderIsDetected() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        Path file = dir.resolve("pages-100.img");
        try (PagesReader r = ImageDir.open(dir).pagesReader("pages-100.img")) {
            truncate(file, 4096 + 4096 + 10);
            CryoException e = expectImageError("core/IMAGE_TRUNCATED",
                    () -> r.read(0, ByteBuffer.allocateDirect(3 * 4096)));
            assertTrue(e.getMessage().contains("file size " + (4096 + 4096 + 10)), e.getMessage());
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    @Test
    void unclosedPagesWriterIsIncomplete() throws Exception {
        ImageDir image = ImageDir.create(tmp.resolve("img"), false);
        PagesWriter p = image.pagesWriter("pages-1.img");
        p.append(pattern(1, 0));
        expectImageError("core/IMAGE_INCOMPLETE", () -> PagesReader.open(image.path().resolve("pages-1.img"), null));
        p.close();
        PagesReader.open(image.path().resolve("pages-1.img"), null).close();
    }

    @Test
    void missingInventoryIsIncomplete() throws Exception {
        CryoException e = openedWithout("inventory.img");
        assertTrue(e.getMessage().contains("incomplete image"), e.getMessage());
        assertTrue(e.getMessage().contains("inventory.img missing — the dump did not finish"), e.getMessage());
        assertTrue(e.getMessage().contains(tmp.resolve("img").toString()), e.getMessage());
    }

    @Test
    void missingListedFileIsIncomplete() throws Exception {
        CryoException e = openedWithout("core-100.img");
        assertTrue(e.getMessage().contains("core-100.img"), e.getMessage());
    }

    /** Writes the test image into {@code tmp/img}, deletes its {@code file} and opens it: the IMAGE_INCOMPLETE error. */
    private CryoException openedWithout(String file) throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        Files.delete(dir.resolve(file));
        return expectImageError("core/IMAGE_INCOMPLETE", () -> ImageDir.open(dir));
    }

    @Test
    void unlistedFileIsNotPartOfTheImage() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        Files.copy(dir.resolve("core-100.img"), dir.resolve("core-101.img"));
        ImageDir image = ImageDir.open(dir);
        assertFalse(image.exists("core-101.img"));
        assertTrue(image.exists("inventory.img"));
        CryoException e = expectImageError("core/IMAGE_INCOMPLETE", () -> image.reader("core-101.img", FileType.CORE));
        assertTrue(e.getMessage().contains("core-101.img"), e.getMessage());
    }

    @Test
    void missingAndEmptyDirectories() throws Exception {
        CryoException e = expectImageError("core/IMAGE_DIR_MISSING", () -> ImageDir.open(tmp.resolve("nope")));
        assertTrue(e.getMessage().contains(tmp.resolve("nope").toString()));
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        expectImageError("core/IMAGE_DIR_EMPTY", () -> ImageDir.open(empty));
    }

    @Test
    void wrongFormatVersionNamesBothVersions() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        Path file = dir.resolve("core-100.img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(4);
            f.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(7).array());
        }
        ImageDir image = ImageDir.open(dir);
        CryoException e = expectImageError("core/IMAGE_VERSION", () -> image.reader("core-100.img", FileType.CORE));
        assertTrue(e.getMessage().contains("format version 7"), e.getMessage());
        assertTrue(e.getMessage().contains("format version 1"), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());

        // an inventory whose record states another version
        ImageDir other = ImageDir.create(tmp.resolve("img2"), false);
        other.writeInventory(inventory());
        Path inv = other.path().resolve("inventory.img");
        Files.delete(inv);
        try (RecordWriter w = new RecordWriter(inv, FileType.INVENTORY,
                java.nio.channels.FileChannel.open(inv, java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE), x -> { }, false)) {
            w.write(inventory().toBuilder().setFormatVersion(2).build());
        }
        e = expectImageError("core/IMAGE_VERSION", () -> ImageDir.open(other.path()));
        assertTrue(e.getMessage().contains("format version 2"), e.getMessage());
    }

    @Test
    void wrongFileTypeIsRefused() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        ImageDir image = ImageDir.open(dir);
        CryoException e = expectImageError("core/IMAGE_CORRUPT", () -> image.reader("core-100.img", FileType.MM));
        assertTrue(e.getMessage().contains("CORE"), e.getMessage());
        // a parser of another message type is a caller bug
        try (RecordReader r = image.reader("core-100.img", FileType.CORE)) {
            CryoException bug = assertThrows(CryoException.class, () -> r.next(PstreeEntry.parser()));
            assertEquals(Category.INTERNAL, bug.category());
            assertEquals("core/IMAGE_RECORD_TYPE", bug.code());
        }
    }

    @Test
    void writerRefusesOtherRecordTypesAndBadNames() throws Exception {
        ImageDir image = ImageDir.create(tmp.resolve("img"), false);
        try (RecordWriter w = image.writer("core-1.img", FileType.CORE)) {
            CryoException e = assertThrows(CryoException.class, () -> w.write(PSTREE.get(0)));
            assertEquals(Category.INTERNAL, e.category());
            assertEquals("core/IMAGE_RECORD_TYPE", e.code());
        }
        for (String bad : List.of("../x.img", "a/b.img", "x.txt", ".hidden.img", "")) {
            CryoException e = assertThrows(CryoException.class, () -> image.writer(bad, FileType.CORE), bad);
            assertEquals("core/IMAGE_FILE_NAME", e.code());
        }
        assertEquals("core/IMAGE_FILE_TWICE",
                assertThrows(CryoException.class, () -> image.writer("core-1.img", FileType.CORE)).code());
        try (PagesWriter p = image.pagesWriter("pages-1.img")) {
            CryoException e = assertThrows(CryoException.class, () -> p.append(ByteBuffer.allocateDirect(100)));
            assertEquals("core/PAGES_UNALIGNED", e.code());
        }
        PagesWriter open = image.pagesWriter("pages-2.img");
        CryoException e = assertThrows(CryoException.class, () -> image.writeInventory(inventory()));
        assertEquals("core/IMAGE_WRITER_OPEN", e.code());
        assertTrue(e.getMessage().contains("pages-2.img"), e.getMessage());
        open.close();
        image.writeInventory(inventory());
        assertEquals("core/IMAGE_SEALED",
                assertThrows(CryoException.class, () -> image.writer("late.img", FileType.CORE)).code());
    }

    @Test
    void discardLeavesNothing() throws Exception {
        Path root = tmp.resolve("a");
        Path dir = root.resolve("b/img");
        ImageDir image = ImageDir.create(dir, false);
        try (RecordWriter w = image.writer("pstree.img", FileType.PSTREE)) {
            w.write(PSTREE.get(0));
        }
        RecordWriter open = image.writer("core-100.img", FileType.CORE);
        open.write(core(100));
        PagesWriter pages = image.pagesWriter("pages-100.img");
        pages.append(pattern(4, 0));
        image.discard();
        assertFalse(Files.exists(root), "discard left " + root);
        assertTrue(Files.isDirectory(tmp));
        image.discard(); // idempotent
    }

    @Test
    void discardKeepsForeignFilesAndTheDirectoryItDidNotCreate() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("img"));
        Files.writeString(dir.resolve("notes.txt"), "x");
        ImageDir image = ImageDir.create(dir, true);
        try (RecordWriter w = image.writer("pstree.img", FileType.PSTREE)) {
            w.write(PSTREE.get(0));
        }
        image.writeInventory(inventory());
        image.discard();
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(dir.resolve("notes.txt")), files.toList());
        }
    }

    @Test
    void openedImageCannotBeDiscarded() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        CryoException e = assertThrows(CryoException.class, () -> ImageDir.open(dir).discard());
        assertEquals("core/IMAGE_READ_ONLY", e.code());
        assertTrue(Files.exists(dir.resolve("inventory.img")));
    }

    @Test
    void envelopeOfAnotherTypeIsAClearError() throws Exception {
        Envelope env = Envelopes.wrap("pipe", PluginRef.newBuilder().setId("x").build());
        assertEquals("x", Envelopes.unwrap(env, PluginRef.class, "pipes.img record 0").getId());
        CryoException e = expectImageError("core/IMAGE_RECORD_TYPE",
                () -> Envelopes.unwrap(env, PstreeEntry.class, "pipes.img record 0"));
        assertTrue(e.getMessage().contains("pipes.img record 0 (kind pipe)"), e.getMessage());
        assertTrue(e.getMessage().contains("cryo.core.PluginRef"), e.getMessage());
        assertTrue(e.getMessage().contains("cryo.core.PstreeEntry"), e.getMessage());
    }

    @Test
    void envelopeSinkAndSourceRoundTrip() throws Exception {
        ImageDir image = ImageDir.create(tmp.resolve("img"), false);
        try (RecordWriter w = image.writer("pipes.img", FileType.OBJECTS)) {
            EnvelopeSink pipes = new EnvelopeSink("pipe", w);
            EnvelopeSink other = new EnvelopeSink("acme/gpu-fd", w);
            pipes.write(PluginRef.newBuilder().setId("p0").build());
            other.write(PstreeEntry.newBuilder().setPid(9).build());
            pipes.write(PluginRef.newBuilder().setId("p1").build());
        }
        EnvelopeSource source = EnvelopeSource.read(image, "pipes.img", FileType.OBJECTS, "pipe");
        assertEquals(2, source.size());
        assertEquals(List.of("p0", "p1"), source.read(PluginRef.class).stream().map(PluginRef::getId).toList());
        CryoException e = expectImageError("core/IMAGE_RECORD_TYPE", () -> source.read(PstreeEntry.class));
        assertTrue(e.getMessage().contains("pipes.img record 0"), e.getMessage());
    }

    static void flip(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0x04);
        }
    }

    static void truncate(Path file, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
    }

    @Test
    void headerBytesAreAsDocumented() throws Exception {
        Path dir = writeImage(tmp.resolve("img"));
        byte[] bytes = Files.readAllBytes(dir.resolve("core-100.img"));
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertArrayEquals("CRYO".getBytes(), java.util.Arrays.copyOf(bytes, 4));
        assertEquals(1, b.getInt(4));
        assertEquals(FileType.CORE.code(), b.getInt(8));
        int length = b.getInt(12);
        assertEquals(core(100).getSerializedSize(), length);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes, 20, length);
        assertEquals((int) crc.getValue(), b.getInt(16));
        assertEquals(20 + length, bytes.length);
        byte[] pages = Files.readAllBytes(dir.resolve("pages-100.img"));
        assertArrayEquals("CRYO".getBytes(), java.util.Arrays.copyOf(pages, 4));
        assertEquals(FileType.PAGES.code(), ByteBuffer.wrap(pages).order(ByteOrder.LITTLE_ENDIAN).getInt(8));
        assertEquals(3 * 4096, ByteBuffer.wrap(pages).order(ByteOrder.LITTLE_ENDIAN).getLong(24));
    }

    @Test
    void preparedFilesAreTheWritersFilesAndTheUnusedOnesAreGoneBeforeTheInventory() throws Exception {
        Path dir = tmp.resolve("img");
        ImageDir image = ImageDir.create(dir, false);
        image.prepare(List.of("core-100.img", "pages-100.img", "mm-100.img", "fdinfo-100.img", "core-102.img",
                "inventory.img", "../escape.img"));
        try (RecordWriter w = image.writer("core-100.img", FileType.CORE)) {
            w.write(core(100));
        }
        try (PagesWriter p = image.pagesWriter("pages-100.img")) {
            p.append(pattern(1, 0));
        }
        try (RecordWriter w = image.writer("pstree.img", FileType.PSTREE)) { // never prepared
            w.write(PSTREE.get(0));
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                dir.resolve("core-100.img"))));
        image.writeInventory(inventory());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("core-100.img", "inventory.img", "pages-100.img", "pstree.img"),
                    files.map(f -> f.getFileName().toString()).sorted().toList(),
                    "mm-100, fdinfo-100 and core-102 were prepared, never written: removed");
        }
        assertFalse(Files.exists(tmp.resolve("escape.img")));
        ImageDir opened = ImageDir.open(dir);
        assertEquals(List.of(core(100)), opened.readAll("core-100.img", FileType.CORE, CoreEntry.parser()));
    }

    @Test
    void discardRemovesPreparedFilesAndTheDirectory() throws Exception {
        Path root = tmp.resolve("a");
        ImageDir image = ImageDir.create(root.resolve("img"), false);
        List<String> names = new ArrayList<>();
        for (int pid = 1; pid <= 200; pid++) {
            names.add("core-" + pid + ".img");
        }
        image.prepare(names); // most still being created when discard starts
        image.writer("core-1.img", FileType.CORE).write(core(1));
        image.discard();
        assertFalse(Files.exists(root), "discard left " + root);
        image.prepare(List.of("core-300.img")); // after discard: nothing
        assertFalse(Files.exists(root));
    }

    @Test
    void aPreparedFileThatCouldNotBeCreatedFailsItsWriterAndStays() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("img"));
        ImageDir image = ImageDir.create(dir, false);
        Files.writeString(dir.resolve("core-100.img"), "someone else's"); // made after create, before prepare
        image.prepare(List.of("core-100.img"));
        CryoException e = assertThrows(CryoException.class, () -> image.writer("core-100.img", FileType.CORE));
        assertEquals(Category.IMAGE, e.category());
        image.discard();
        assertEquals("someone else's", Files.readString(dir.resolve("core-100.img")));
    }
}
