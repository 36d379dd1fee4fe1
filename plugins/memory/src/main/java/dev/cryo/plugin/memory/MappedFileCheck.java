package dev.cryo.plugin.memory;

import dev.cryo.api.CryoException;
import dev.cryo.api.Pid;
import dev.cryo.plugin.memory.proto.VmaEntry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Decides at restore whether the file behind a file mapping may be mapped again.
 *
 * <p>Policy: the file must exist, and its size must equal the size at dump unless
 * {@code skip-file-size-check} is set. A changed device or inode alone is accepted (a package reinstalled with
 * identical files, a restore on another machine); with the size unchanged the content is assumed unchanged — the
 * same trust CRIU puts in its size check. A changed size is refused even for the same inode, since the unsaved
 * (never written) pages of the mapping would come from a different file.
 */
public final class MappedFileCheck {
    /** Identity and size of a file now, from {@code stat}. */
    public record FileState(long size, long dev, long inode) {
        /** @return the state of {@code path} (following symlinks), empty when it does not exist */
        public static Optional<FileState> of(Path path) throws IOException {
            if (!Files.exists(path)) {
                return Optional.empty();
            }
            Map<String, Object> a = Files.readAttributes(path, "unix:size,dev,ino");
            return Optional.of(new FileState((Long) a.get("size"), (Long) a.get("dev"), (Long) a.get("ino")));
        }

        /** @return the device as {@code /proc/PID/maps} prints it: {@code major:minor} in hex */
        public String devString() {
            return MappedFileCheck.devString(dev);
        }
    }

    private MappedFileCheck() {
    }

    /** @return {@code st_dev} as glibc encodes it, printed {@code major:minor} hex like /proc/PID/maps */
    public static String devString(long stDev) {
        long major = ((stDev >>> 8) & 0xfffL) | ((stDev >>> 32) & ~0xfffL);
        long minor = (stDev & 0xffL) | ((stDev >>> 12) & ~0xffL);
        return String.format("%02x:%02x", major, minor);
    }

    /**
     * @param now           the file now, empty when missing
     * @param skipSizeCheck {@code skip-file-size-check} is set
     * @throws CryoException CONFLICT {@code memory/FILE_MISSING} or {@code memory/FILE_CHANGED}
     */
    public static void check(Pid pid, VmaEntry vma, Optional<FileState> now, boolean skipSizeCheck)
            throws CryoException {
        if (now.isEmpty()) {
            String where = where(pid, vma);
            throw new CryoException(CryoException.Category.CONFLICT, "memory/FILE_MISSING",
                    "restore refused: " + where + " does not exist",
                    "restore where " + vma.getPath() + " exists as it was at dump");
        }
        FileState f = now.get();
        if (f.size() != vma.getFileSize() && !skipSizeCheck) {
            String where = where(pid, vma);
            String identity = f.inode() == vma.getInode() && f.devString().equals(vma.getDev())
                    ? "same inode " + f.inode()
                    : "inode " + vma.getDev() + "/" + vma.getInode() + " at dump, " + f.devString() + "/"
                            + f.inode() + " now";
            throw new CryoException(CryoException.Category.CONFLICT, "memory/FILE_CHANGED",
                    "restore refused: " + where + " changed since the dump: " + vma.getFileSize()
                            + " bytes at dump, " + f.size() + " now (" + identity + ")",
                    "restore with the file as it was at dump, or pass --skip-file-size-check (or add "
                            + "skip-file-size-check to the config) to map the changed file anyway");
        }
    }

    /** Built only for a refusal: the check runs for every file mapping of a restore. */
    private static String where(Pid pid, VmaEntry vma) {
        return String.format("file %s mapped at %x-%x in pid %s", vma.getPath(), vma.getStart(), vma.getEnd(), pid);
    }
}
