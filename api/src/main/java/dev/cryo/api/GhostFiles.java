package dev.cryo.api;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.LinkOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * The convention by which plugins restore a <em>ghost file</em> — a regular file that was unlinked while a process
 * held it (as an fd, a mapping, or both) — as one file, whichever plugins hold it and in whichever order they come.
 * Like CRIU's ghost files: the file is recreated in its original directory under a temporary name
 * ({@link #restorePath}), every holder opens or maps it there, and it is unlinked once every process is rebuilt
 * (in {@link LifecycleListener#postRestore}, still stopped; again in {@code finishRestore} after a failure), so the
 * restored processes see a file with {@code st_nlink} 0, as at dump.
 *
 * <p>The name holds cryo's process id and the inode at dump, so two plugins of one restore find the same file: the
 * first creates it with {@link #create}, the next finds it there (this class remembers, for cryo's whole process,
 * which ghost files it created — it is loaded once, by the class loader every plugin shares). A file of that name
 * that this process did not create (left by a cryo that was killed) is never taken.
 * Each plugin writes the content it saved (the {@code regular-file} plugin the whole file, the {@code memory}
 * plugin the pages of its mappings): all of it is the content at dump, so the order does not matter.
 *
 * <p>Threading: the tracer thread. Plain file operations in cryo's own process (cryo runs as root in the restored
 * tree's mount namespace).
 *
 * @since 1.1.0
 */
public final class GhostFiles {
    /** The suffix {@code /proc/PID/fd/N} and {@code /proc/PID/maps} give an unlinked file. */
    public static final String DELETED = " (deleted)";
    private static final int NAME_MAX = 255;
    /** The ghost files this process created and has not unlinked yet. */
    private static final Set<Path> CREATED = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Ghost files made again without a name (O_TMPFILE): restore path → the {@code /proc/PID/fd/N} holding it. */
    private static final java.util.Map<Path, Path> NAMELESS = new java.util.concurrent.ConcurrentHashMap<>();

    private GhostFiles() {
    }

    /**
     * Records that the ghost file of {@code restorePath} was made again without a name (a file the program made
     * with O_TMPFILE, so that it stays linkable) and is open at {@code link}, a {@code /proc/PID/fd/N} of a task
     * being restored: another plugin that needs the same file (a mapping of it) opens {@code link} instead of
     * creating it at {@code restorePath}.
     *
     * @since 1.2.0
     */
    public static void madeNameless(Path restorePath, Path link) {
        NAMELESS.put(restorePath, link);
    }

    /**
     * @return the {@code /proc/PID/fd/N} through which the nameless ghost of {@code restorePath} is open, when one
     *         was made in this restore ({@link #madeNameless})
     * @since 1.2.0
     */
    public static java.util.Optional<Path> namelessLink(Path restorePath) {
        return java.util.Optional.ofNullable(NAMELESS.get(restorePath));
    }

    /**
     * Forgets the nameless ghost of {@code restorePath} (the restore is over). Never throws.
     *
     * @since 1.2.0
     */
    public static void forgetNameless(Path restorePath) {
        NAMELESS.remove(restorePath);
    }

    /** @return whether a {@code /proc/PID/fd/N} link or a maps path names an unlinked file */
    public static boolean isDeleted(String link) {
        return link.endsWith(DELETED);
    }

    /** @return the path without the {@code " (deleted)"} suffix */
    public static String originalPath(String link) {
        return isDeleted(link) ? link.substring(0, link.length() - DELETED.length()) : link;
    }

    /**
     * @param originalPath the path the file had (without {@code " (deleted)"})
     * @param inode        its inode at dump
     * @return where this restore recreates it: {@code DIR/NAME.cryo-ghost.CRYOPID.INODE}, the name shortened to fit
     *         NAME_MAX
     */
    public static Path restorePath(String originalPath, long inode) {
        Path p = Path.of(originalPath);
        Path dir = p.getParent() == null ? Path.of("/") : p.getParent();
        String suffix = ".cryo-ghost." + ProcessHandle.current().pid() + "." + Long.toUnsignedString(inode);
        String name = p.getFileName() == null ? "" : p.getFileName().toString();
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        int room = NAME_MAX - suffix.length();
        if (b.length > room) {
            name = new String(b, 0, room, StandardCharsets.UTF_8).replace("\uFFFD", "");
        }
        return dir.resolve(name + suffix);
    }

    /**
     * Creates the ghost file at {@code ghost} with size, owner and permissions, unless this restore created it
     * already (another plugin came first).
     *
     * @param mode {@code st_mode} at dump (the permission bits 0777 are applied)
     * @return {@code true} when this call created it, {@code false} when an earlier call of this process did
     * @throws FileAlreadyExistsException when a file of that name exists that this process did not create
     */
    public static boolean create(Path ghost, long size, int mode, int uid, int gid) throws IOException {
        if (CREATED.contains(ghost) && Files.exists(ghost, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(ghost, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            CREATED.add(ghost);
        }
        // a sparse file of the right size (ftruncate); the holders write the content
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(ghost.toFile(), "rw")) {
            f.setLength(size);
        }
        Files.setAttribute(ghost, "unix:uid", uid);
        Files.setAttribute(ghost, "unix:gid", gid);
        Files.setPosixFilePermissions(ghost, permissions(mode));
        return true;
    }

    /** Unlinks a ghost file; a missing one (unlinked by another plugin) is fine. Never throws. */
    public static void unlink(Path ghost) {
        try {
            if (CREATED.remove(ghost)) {
                Files.deleteIfExists(ghost);
            }
        } catch (IOException | RuntimeException e) {
            // the restored processes keep their fds and mappings; a leftover temporary name is only clutter
        }
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
                PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
                PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_READ};
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(bits[i]);
            }
        }
        return s;
    }
}
