package dev.cryo.core.image;

import com.google.protobuf.Message;
import dev.cryo.api.CryoException;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Checks a whole image without restoring it ({@code cryo check --images -D DIR}): the inventory and the file list
 * and sizes it records ({@link ImageDir#open}), every record of every record file (frame checksums, protobuf
 * parse), every page of every pages file against its checksum ({@link PagesReader#verifyAll}). Plugin records are
 * checked as envelopes (checksum and frame); their payloads are the plugins' to read on restore. Caller's thread.
 */
public final class ImageVerifier {
    /** What was checked in one file: {@code count} records, or pages ({@code pages}; 0 checksummed: none to check). */
    public record FileCheck(String file, FileType type, long count, boolean checksummed) {
        public String describe() {
            if (!type.hasRecords()) {
                return count + " pages" + (checksummed ? ", crc32c checked" : ", no checksums (older cryo)");
            }
            return count + (count == 1 ? " record" : " records");
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
                check = new FileCheck(name, type, records.size(), true);
            } else {
                try (PagesReader pages = image.pagesReader(name)) {
                    pages.verifyAll();
                    check = new FileCheck(name, type, pages.dataSize() / ImageFormat.PAGE_SIZE, pages.checksummed());
                }
            }
            checks.add(check);
            each.accept(check);
        }
        return checks;
    }
}
