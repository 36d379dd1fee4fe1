package dev.cryo.core.image;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/** The exceptions of this package, so that each code is built in one place with one wording. */
final class ImageErrors {
    static final String CORRUPT = "core/IMAGE_CORRUPT";
    static final String TRUNCATED = "core/IMAGE_TRUNCATED";
    static final String VERSION = "core/IMAGE_VERSION";
    static final String INCOMPLETE = "core/IMAGE_INCOMPLETE";
    static final String IO = "core/IMAGE_IO";

    private static final String FIX_DUMP_AGAIN = "the image is damaged; dump the tree again";

    private ImageErrors() {
    }

    static CryoException corrupt(Path file, String detail) {
        return new CryoException(Category.IMAGE, CORRUPT, "corrupt image file " + file + ": " + detail,
                FIX_DUMP_AGAIN);
    }

    static CryoException corrupt(Path file, String detail, Throwable cause) {
        return new CryoException(Category.IMAGE, CORRUPT, "corrupt image file " + file + ": " + detail,
                FIX_DUMP_AGAIN, cause);
    }

    static CryoException truncated(Path file, String detail) {
        return new CryoException(Category.IMAGE, TRUNCATED, "truncated image file " + file + ": " + detail,
                "the image was cut short (disk full or an interrupted copy?); copy it again or dump the tree again");
    }

    static CryoException version(Path file, int found) {
        return new CryoException(Category.IMAGE, VERSION, "image file " + file + " has image format version "
                + Integer.toUnsignedString(found) + "; this cryo reads format version " + ImageFormat.FORMAT_VERSION,
                "use the cryo release that wrote the image (its inventory.img names it), or dump again with this one");
    }

    /** A failed read/write/open of an image file: the operation, the path and the symbolic errno when known. */
    static CryoException io(String operation, Path file, IOException e) {
        return new CryoException(Category.IMAGE, IO, operation + "(" + file + ") failed: " + describe(e),
                null, e);
    }

    static CryoException internal(String code, String message) {
        return new CryoException(Category.INTERNAL, code, message);
    }

    /** Renders an I/O failure CRIU-style: symbolic errno and text where the exception type tells it. */
    static String describe(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "ENOENT (No such file or directory)";
        }
        if (e instanceof AccessDeniedException) {
            return "EACCES (Permission denied)";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "EEXIST (File exists)";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "ENOTEMPTY (Directory not empty)";
        }
        if (e instanceof NotDirectoryException) {
            return "ENOTDIR (Not a directory)";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
