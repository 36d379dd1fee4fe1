package dev.cryo.plugin.regularfile;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdInfo;
import dev.cryo.plugin.regularfile.proto.RegularFileEntry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Decides at restore, before anything is injected, whether the file of a recorded fd can be reopened: it must
 * exist, be of the same type, and (regular files) have the size it had at dump unless
 * {@code skip-file-size-check} is set. Checked with java.nio.file: cryo runs as root in the mount namespace of
 * the restored tree.
 */
public final class FileCheck {
    /** Type and size of a file now, from {@code stat}. */
    public record FileState(int mode, long size) {
        /** @return the state of {@code path} (following symlinks), empty when it does not exist */
        public static Optional<FileState> of(Path path) throws IOException {
            return of(path, false);
        }

        /** @return the state of {@code path} itself when {@code noFollow} (a symlink is a symlink), else followed */
        public static Optional<FileState> of(Path path, boolean noFollow) throws IOException {
            java.nio.file.LinkOption[] how = noFollow ? new java.nio.file.LinkOption[]{
                    java.nio.file.LinkOption.NOFOLLOW_LINKS} : new java.nio.file.LinkOption[0];
            if (!Files.exists(path, how)) {
                return Optional.empty();
            }
            Map<String, Object> a = Files.readAttributes(path, "unix:mode,size", how);
            return Optional.of(new FileState((Integer) a.get("mode"), (Long) a.get("size")));
        }
    }

    private FileCheck() {
    }

    /**
     * @param who           the fd for messages, e.g. {@code pid 812 "nginx" fd 5}
     * @param now           the file now, empty when missing
     * @param skipSizeCheck {@code skip-file-size-check} is set
     * @throws CryoException CONFLICT {@code regular-file/FILE_MISSING}, {@code regular-file/TYPE_CHANGED} or
     *                       {@code regular-file/SIZE_CHANGED}
     */
    public static void check(String who, RegularFileEntry e, Optional<FileState> now, boolean skipSizeCheck)
            throws CryoException {
        if (now.isEmpty()) {
            throw new CryoException(CryoException.Category.CONFLICT, "regular-file/FILE_MISSING",
                    "restore refused: " + who + " was open on " + e.getPath() + ", which does not exist",
                    "restore where " + e.getPath() + " exists as it was at dump");
        }
        FileState f = now.get();
        int typeThen = e.getMode() & FdInfo.S_IFMT;
        int typeNow = f.mode() & FdInfo.S_IFMT;
        if (typeThen != typeNow) {
            throw new CryoException(CryoException.Category.CONFLICT, "regular-file/TYPE_CHANGED",
                    "restore refused: " + who + " was open on " + e.getPath() + ", a " + typeName(typeThen)
                            + " at dump and a " + typeName(typeNow) + " now",
                    "restore where " + e.getPath() + " is as it was at dump");
        }
        if (typeNow == FdInfo.S_IFREG && f.size() != e.getSize() && !skipSizeCheck) {
            throw new CryoException(CryoException.Category.CONFLICT, "regular-file/SIZE_CHANGED",
                    "restore refused: " + who + " was open on " + e.getPath() + ", which changed size since the dump: "
                            + e.getSize() + " bytes expected, " + f.size() + " found",
                    "pass --skip-file-size-check (or add skip-file-size-check to the config) to accept a file "
                            + "that changed");
        }
    }

    private static String typeName(int type) {
        return switch (type) {
            case FdInfo.S_IFREG -> "regular file";
            case FdInfo.S_IFDIR -> "directory";
            case FdInfo.S_IFCHR -> "character device";
            case FdInfo.S_IFIFO -> "fifo";
            case FdInfo.S_IFSOCK -> "socket";
            case OpenFlags.S_IFLNK -> "symbolic link";
            default -> "file of type 0" + Integer.toOctalString(type);
        };
    }
}
