package dev.cryo.core.image;

import com.google.protobuf.Message;
import dev.cryo.api.CryoException;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Checks a whole image without restoring it ({@code cryo check --images -D DIR}): the inventory and the file list
 * and sizes it records ({@link ImageDir#open}), every record of every record file (frame checksums, protobuf
 * parse, the whole file's record count and crc32c the inventory recorded), every page of every pages file against its checksum ({@link PagesReader#verifyAll}). Plugin records are
 * checked as envelopes (checksum and frame); their payloads are the plugins' to read on restore. Caller's thread.
 */
public final class ImageVerifier {
    /**
     * What was checked in one file: {@code count} records, or pages; {@code checksummed}: pages checked against their
     * checksums (false: an older cryo's file, none to check); {@code wholeFile}: the record count and crc32c of the
     * whole file (for pages, of their checksum table) checked against the inventory (false for the inventory and
     * statistics files, which it does not cover, and in an older cryo's image).
     */
    public record FileCheck(String file, FileType type, long count, boolean checksummed, boolean wholeFile) {
        public String describe() {
            String whole = wholeFile || type == FileType.INVENTORY || type == FileType.STATS ? ""
                    : ", no whole-file checksum (older cryo)";
            if (!type.hasRecords()) {
                return count + " pages" + (checksummed ? ", crc32c checked" : ", no checksums (older cryo)") + whole;
            }
            return count + (count == 1 ? " record" : " records") + whole;
        }
    }

    private ImageVerifier() {
    }

    /**
     * @param each told about every file once it checked out, in {@link ImageDir#files()} order
     * @return every file's check
     * @throws CryoException IMAGE with the first damage found, naming the file (and the offset for page data)
     */
    public static List<FileCheck> verify(java.nio.file.Path dir, Consumer<FileCheck> each) throws CryoException {
        ImageDir image = ImageDir.open(dir);
        List<FileCheck> checks = new ArrayList<>();
        for (String name : image.files()) {
            FileType type = image.fileType(name);
            FileCheck check;
            if (type.hasRecords()) {
                List<? extends Message> records = image.readAll(name, type,
                        type.recordType().orElseThrow().getParserForType());
                check = new FileCheck(name, type, records.size(), true, image.wholeFileChecksummed(name));
            } else {
                try (PagesReader pages = image.pagesReader(name)) {
                    pages.verifyAll();
                    check = new FileCheck(name, type, pages.dataSize() / ImageFormat.PAGE_SIZE, pages.checksummed(),
                            image.wholeFileChecksummed(name));
                }
            }
            checks.add(check);
            each.accept(check);
        }
        return checks;
    }
}
