package dev.cryo.core.image;

import dev.cryo.api.CryoException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The byte layout of image files. All integers are little endian.
 *
 * <pre>
 * record file:  "CRYO" | u32 version | u32 file type | frame*
 *   frame:      u32 length | u32 crc32c(payload) | payload (one serialized protobuf message, length bytes)
 * pages file:   4096-byte header | raw page data (whole pages, appended in large chunks) | crc table
 *   header:     "CRYO" | u32 version | u32 type PAGES | u32 header size (4096) | u32 page size (4096)
 *               | u32 flags | u64 data size (all ones until the writer closed) | u32 crc32c(bytes 0..32)
 *               | zeros
 *   flags:      bit 0 ({@link #PAGES_FLAG_CRC}): a crc table follows the data (0 in images of older cryos)
 *   crc table:  u32 crc32c per page of data, in order (data size / 4096 entries)
 * </pre>
 *
 * The inventory additionally records each file's size, so a file cut at a frame boundary is caught too.
 * Page data is checksummed per page (CRC32C, which the JDK computes with the CPU's crc32 instruction): the writer
 * computes it on the pages writer thread while the next batch is read, the restore checks each window of pages it
 * maps before copying it into the task, and the check names the page's offset.
 */
public final class ImageFormat {
    /** The image format version this cryo writes and reads. */
    public static final int FORMAT_VERSION = 1;
    /** The magic every image file starts with. */
    public static final String MAGIC = "CRYO";
    /** Bytes of the record file header (magic, version, type). */
    public static final int RECORD_HEADER_BYTES = 12;
    /** Bytes of a frame header (length, crc32c). */
    public static final int FRAME_HEADER_BYTES = 8;
    /** Largest record accepted; a larger length field is treated as corruption. */
    public static final int MAX_RECORD_BYTES = 64 << 20;
    /** Bytes of the pages file header; page data starts here. */
    public static final int PAGES_HEADER_BYTES = 4096;
    /** The unit pages files store: every append is a whole number of pages. */
    public static final int PAGE_SIZE = 4096;

    static final int MAGIC_INT = ByteBuffer.wrap(MAGIC.getBytes(StandardCharsets.US_ASCII))
            .order(ByteOrder.LITTLE_ENDIAN).getInt();
    static final long DATA_SIZE_UNSET = -1L;
    static final int PAGES_HEADER_CRC_OFFSET = 32;
    static final int PAGES_DATA_SIZE_OFFSET = 24;
    static final int PAGES_FLAGS_OFFSET = 20;
    /** Pages header flag: a table of one crc32c per page follows the data. */
    static final int PAGES_FLAG_CRC = 1;

    private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*\\.img");

    private ImageFormat() {
    }

    /** @return whether {@code name} is a valid image file name: a plain name ending in {@code .img} */
    public static boolean isImageFileName(String name) {
        return name != null && FILE_NAME.matcher(name).matches() && !name.contains("..");
    }

    /** Writes the 12-byte record file header into {@code dst} (little endian, at its position). */
    static void putRecordHeader(ByteBuffer dst, FileType type) {
        dst.order(ByteOrder.LITTLE_ENDIAN);
        dst.putInt(MAGIC_INT).putInt(FORMAT_VERSION).putInt(type.code());
    }

    /**
     * Checks magic, version and type of a file header.
     *
     * @param header   the first 12 bytes, little endian
     * @param expected the type the caller needs, or {@code null} to accept any known type
     * @return the file's type
     */
    static FileType checkHeader(Path file, ByteBuffer header, FileType expected) throws CryoException {
        header.order(ByteOrder.LITTLE_ENDIAN);
        int magic = header.getInt(0);
        if (magic != MAGIC_INT) {
            byte[] got = new byte[4];
            header.get(0, got);
            throw ImageErrors.corrupt(file, "not a Cryo image file: magic " + printable(got) + " at offset 0, expected \""
                    + MAGIC + "\"");
        }
        int version = header.getInt(4);
        if (version != FORMAT_VERSION) {
            throw ImageErrors.version(file, version);
        }
        int code = header.getInt(8);
        FileType type = FileType.ofCode(code).orElseThrow(() -> ImageErrors.corrupt(file,
                "unknown file type " + code + " in the header at offset 8"));
        if (expected != null && type != expected) {
            throw ImageErrors.corrupt(file, "header says file type " + type + " (offset 8), expected " + expected);
        }
        return type;
    }

    private static String printable(byte[] bytes) {
        StringBuilder sb = new StringBuilder("\"");
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return sb.append('"').toString();
    }
}
