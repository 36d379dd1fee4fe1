package dev.cryo.core.image;

import dev.cryo.api.CryoException;
import dev.cryo.core.image.proto.FdinfoEntry;
import dev.cryo.core.image.proto.ImageFileEntry;
import dev.cryo.core.image.proto.InventoryEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static dev.cryo.core.image.ImageDirTest.expectImageError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The inventory's record count and whole-file crc32c per record file (and crc32c of each pages file's checksum
 * table): records or pages swapped, duplicated or dropped with every per-record / per-page checksum right and the
 * recorded size fixed are refused; an image of an older cryo (no such fields) still reads.
 */
class WholeFileChecksumTest {
    @TempDir
    Path tmp;

    private Path image() throws Exception {
        return new ImageDirTest().writeImage(tmp.resolve("img"));
    }

    @Test
    void inventoryRecordsEachFilesRecordCountAndChecksum() throws Exception {
        Path dir = image();
        ImageDir image = ImageDir.open(dir);
        ImageFileEntry fdinfo = detail(image.inventory(), "fdinfo-100.img");
        assertEquals(3, fdinfo.getRecords());
        assertTrue(fdinfo.hasCrc32C());
        assertTrue(detail(image.inventory(), "pages-100.img").hasCrc32C());
        assertTrue(image.wholeFileChecksummed("core-100.img"));
        assertEquals(3, image.readAll("fdinfo-100.img", FileType.FDINFO, FdinfoEntry.parser()).size());
    }

    @Test
    void swappedRecordsAreRefused() throws Exception {
        Path dir = image();
        rewriteFrames(dir, "fdinfo-100.img", f -> List.of(f.get(1), f.get(0), f.get(2)));
        CryoException e = readFdinfo(dir);
        assertTrue(e.getMessage().contains("fdinfo-100.img"), e.getMessage());
        assertTrue(e.getMessage().contains("3 records, as many as recorded"), e.getMessage());
        assertTrue(e.getMessage().contains("reordered"), e.getMessage());
    }

    @Test
    void duplicatedRecordIsRefusedWithBothCounts() throws Exception {
        Path dir = image();
        rewriteFrames(dir, "fdinfo-100.img", f -> List.of(f.get(0), f.get(1), f.get(2), f.get(1)));
        CryoException e = readFdinfo(dir);
        assertTrue(e.getMessage().contains("it holds 4 records, the inventory recorded 3"), e.getMessage());
        assertTrue(e.getMessage().contains("duplicated"), e.getMessage());
    }

    @Test
    void droppedRecordIsRefusedWithBothCounts() throws Exception {
        Path dir = image();
        rewriteFrames(dir, "fdinfo-100.img", f -> List.of(f.get(0), f.get(2)));
        CryoException e = readFdinfo(dir);
        assertTrue(e.getMessage().contains("it holds 2 records, the inventory recorded 3"), e.getMessage());
        assertTrue(e.getMessage().contains("dropped"), e.getMessage());
        // the whole-image check reports it too
        e = expectImageError("core/IMAGE_CORRUPT", () -> ImageVerifier.verify(dir, c -> { }));
        assertTrue(e.getMessage().contains("fdinfo-100.img"), e.getMessage());
    }

    @Test
    void aDamagedFrameIsStillReportedAsSuch() throws Exception {
        Path dir = image();
        ImageDirTest.flip(dir.resolve("fdinfo-100.img"), 12 + 8 + 1);
        CryoException e = readFdinfo(dir);
        assertTrue(e.getMessage().contains("record 0 at offset 12: checksum mismatch"), e.getMessage());
    }

    @Test
    void swappedPagesWithTheirChecksumsAreRefused() throws Exception {
        Path dir = image();
        Path pages = dir.resolve("pages-100.img");
        byte[] b = Files.readAllBytes(pages);
        int data = ImageFormat.PAGES_HEADER_BYTES;
        int table = data + 3 * 4096;
        swap(b, data, data + 2 * 4096, 4096);
        swap(b, table, table + 8, 4);
        Files.write(pages, b);
        ImageDir image = ImageDir.open(dir);
        CryoException e = expectImageError("core/IMAGE_CORRUPT", () -> image.pagesReader("pages-100.img"));
        assertTrue(e.getMessage().contains("pages-100.img"), e.getMessage());
        assertTrue(e.getMessage().contains("table of 3 page checksums"), e.getMessage());
    }

    /**
     * An image of an older cryo has neither field: nothing more is checked (as before), so its reordered records are
     * read as they are.
     */
    @Test
    void imageOfAnOlderCryoWithoutTheFieldsStillReads() throws Exception {
        Path dir = image();
        rewriteInventory(dir, inv -> {
            InventoryEntry.Builder b = inv.toBuilder();
            for (int i = 0; i < b.getFileDetailsCount(); i++) {
                b.setFileDetails(i, b.getFileDetails(i).toBuilder().clearRecords().clearCrc32C());
            }
            return b.build();
        });
        rewriteFrames(dir, "fdinfo-100.img", f -> List.of(f.get(2), f.get(0)));
        ImageDir image = ImageDir.open(dir);
        assertFalse(image.wholeFileChecksummed("fdinfo-100.img"));
        List<FdinfoEntry> fds = image.readAll("fdinfo-100.img", FileType.FDINFO, FdinfoEntry.parser());
        assertEquals(List.of(7, 0), fds.stream().map(FdinfoEntry::getFd).toList());
        image.pagesReader("pages-100.img").close();
        List<ImageVerifier.FileCheck> checks = ImageVerifier.verify(dir, c -> { });
        assertTrue(checks.stream().filter(c -> c.file().equals("core-100.img")).findFirst().orElseThrow()
                .describe().contains("no whole-file checksum (older cryo)"));
    }

    /** Found by the fuzzer: an inventory listing a file 14,000 times made {@code show --json} render it as often. */
    @Test
    void aFileListedTwiceIsRefused() throws Exception {
        Path dir = image();
        rewriteInventory(dir, inv -> inv.toBuilder().addFiles("core-100.img").build());
        CryoException e = expectImageError("core/IMAGE_CORRUPT", () -> ImageDir.open(dir));
        assertTrue(e.getMessage().contains("lists core-100.img twice"), e.getMessage());
        rewriteInventory(dir, inv -> inv.toBuilder().clearFiles()
                .addAllFiles(inv.getFilesList().subList(0, inv.getFilesCount() - 1)).addFileDetails(inv.getFileDetails(0)).build());
        e = expectImageError("core/IMAGE_CORRUPT", () -> ImageDir.open(dir));
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
    }

    private static CryoException readFdinfo(Path dir) throws CryoException {
        ImageDir image = ImageDir.open(dir);
        return expectImageError("core/IMAGE_CORRUPT",
                () -> image.readAll("fdinfo-100.img", FileType.FDINFO, FdinfoEntry.parser()));
    }

    private static ImageFileEntry detail(InventoryEntry inv, String name) {
        return inv.getFileDetailsList().stream().filter(d -> d.getName().equals(name)).findFirst().orElseThrow();
    }

    private static void swap(byte[] b, int i, int j, int len) {
        byte[] t = java.util.Arrays.copyOfRange(b, i, i + len);
        System.arraycopy(b, j, b, i, len);
        System.arraycopy(t, 0, b, j, len);
    }

    /** Rewrites a record file's frames (each frame with its own checksum, unchanged) and fixes its recorded size. */
    private static void rewriteFrames(Path dir, String name, UnaryOperator<List<byte[]>> change) throws Exception {
        Path file = dir.resolve(name);
        byte[] b = Files.readAllBytes(file);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        List<byte[]> frames = new ArrayList<>();
        for (int off = ImageFormat.RECORD_HEADER_BYTES; off < b.length; ) {
            int len = 8 + bb.getInt(off);
            frames.add(java.util.Arrays.copyOfRange(b, off, off + len));
            off += len;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(b, 0, ImageFormat.RECORD_HEADER_BYTES);
        for (byte[] f : change.apply(frames)) {
            out.write(f);
        }
        Files.write(file, out.toByteArray());
        long size = Files.size(file);
        rewriteInventory(dir, inv -> {
            InventoryEntry.Builder nb = inv.toBuilder();
            for (int i = 0; i < nb.getFileDetailsCount(); i++) {
                if (nb.getFileDetails(i).getName().equals(name)) {
                    nb.setFileDetails(i, nb.getFileDetails(i).toBuilder().setSize(size));
                }
            }
            return nb.build();
        });
    }

    private static void rewriteInventory(Path dir, UnaryOperator<InventoryEntry> change) throws Exception {
        Path inv = dir.resolve(ImageDir.INVENTORY_FILE);
        byte[] b = Files.readAllBytes(inv);
        int frame = ImageFormat.RECORD_HEADER_BYTES;
        InventoryEntry old = InventoryEntry.parseFrom(java.util.Arrays.copyOfRange(b, frame + 8, b.length));
        Files.delete(inv);
        try (RecordWriter w = new RecordWriter(inv, FileType.INVENTORY, FileChannel.open(inv,
                StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), x -> { }, false)) {
            w.write(change.apply(old));
        }
    }
}
