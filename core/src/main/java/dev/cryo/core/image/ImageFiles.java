package dev.cryo.core.image;

import dev.cryo.api.CryoException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Opening an image file to read it (records or pages), with this package's errors. */
final class ImageFiles {
    private ImageFiles() {
    }

    /** Checks the header of the file open on {@code channel} and wraps the channel in a reader. */
    @FunctionalInterface
    interface Opener<T> {
        T open(FileChannel channel) throws IOException, CryoException;
    }

    /**
     * Opens {@code file} read-only and hands it to {@code opener}; closes it again when {@code opener} fails.
     *
     * @throws CryoException IMAGE {@code core/IMAGE_INCOMPLETE} when the file is missing, {@code core/IMAGE_IO} when
     *                       it cannot be opened or read, or what {@code opener} throws
     */
    static <T> T open(Path file, Opener<T> opener) throws CryoException {
        FileChannel channel = openChannel(file);
        try {
            return opener.open(channel);
        } catch (IOException e) {
            closeQuietly(channel);
            throw ImageErrors.io("read", file, e);
        } catch (CryoException | RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    /** Opens {@code file} read-only: IMAGE {@code core/IMAGE_INCOMPLETE} when it is missing. */
    static FileChannel openChannel(Path file) throws CryoException {
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw missing(file, e);
        } catch (IOException e) {
            throw ImageErrors.io("open", file, e);
        }
    }

    /** Image file {@code file} is not there: the image is incomplete. */
    static CryoException missing(Path file, NoSuchFileException e) {
        return new CryoException(CryoException.Category.IMAGE, ImageErrors.INCOMPLETE, "image file " + file
                + " is missing", "the image is incomplete; dump the tree again", e);
    }

    static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // read-only: nothing is lost
        }
    }
}
