package dev.cryo.plugin.regularfile;

import dev.cryo.api.CryoException;
import dev.cryo.api.GhostFiles;
import dev.cryo.api.ImageSource;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.Syscall;
import dev.cryo.plugin.regularfile.proto.GhostFileEntry;
import dev.cryo.plugin.regularfile.proto.RegularFileEntry;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Restore of ghost files held as fds ({@link GhostFiles}): each one is recreated once, at
 * {@link GhostFiles#restorePath}, with its size, owner, permissions and content, for every fd of every process to
 * open; {@link #unlinkAll} removes the names once every process is rebuilt.
 *
 * <p>A file opened with {@code O_TMPFILE} never had a name, and the kernel lets it be given one with {@code linkat}
 * (unless it was opened with {@code O_EXCL}, which fdinfo does not show). A named copy unlinked later could not be
 * linked, so such a file is made again the way the program made it: {@link #createTmpfile} replays
 * {@code openat(dir, O_TMPFILE…)} in the first holder, fills the new inode through {@code /proc/PID/fd/N}, and every
 * other holder opens that magic link ({@link #tmpfileHolder}).
 *
 * <p>Lifetime: one instance per restore. Tracer thread only.
 */
final class GhostFileRestore {
    private Map<String, List<GhostFileEntry>> table;
    private final Set<Path> prepared = new LinkedHashSet<>();
    /** dev:inode of an O_TMPFILE file made in this restore → the {@code /proc/PID/fd/N} link of its first holder */
    private final Map<String, Path> tmpfiles = new HashMap<>();
    /** dev:inode of the files an fd of the image opened with O_TMPFILE (noted by the restore check) */
    private final Set<String> tmpfileInodes = new java.util.HashSet<>();
    /** Restore paths registered with {@link GhostFiles#madeNameless}, forgotten by {@link #unlinkAll}. */
    private final Set<Path> nameless = new LinkedHashSet<>();

    /**
     * Refuses, before any process exists, a ghost whose directory is gone or whose temporary name is taken.
     */
    static void check(String who, RegularFileEntry e) throws CryoException {
        Path ghost = GhostFiles.restorePath(e.getPath(), e.getInode());
        Path dir = ghost.getParent();
        if (!Files.isDirectory(dir)) {
            throw new CryoException(CryoException.Category.CONFLICT, "regular-file/GHOST_DIR_MISSING",
                    "restore refused: " + who + " was open on the deleted file " + e.getPath() + ", which is "
                            + "recreated in its directory " + dir + " for the restore, but that directory does not exist",
                    "create " + dir + " (the file is unlinked again once the processes are rebuilt)");
        }
        if (Files.exists(ghost, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new CryoException(CryoException.Category.CONFLICT, "regular-file/GHOST_EXISTS",
                    "restore refused: " + who + " was open on the deleted file " + e.getPath() + ", to be recreated "
                            + "as " + ghost + ", which exists (left by an earlier cryo that was killed?)",
                    "remove " + ghost);
        }
    }

    /**
     * @return the recreated file of {@code e}, created and filled the first time it is asked for
     */
    Path prepare(String who, RegularFileEntry e, ImageSource objects) throws CryoException {
        Path ghost = GhostFiles.restorePath(e.getPath(), e.getInode());
        if (prepared.contains(ghost)) {
            return ghost;
        }
        List<GhostFileEntry> chunks = contentOf(who, e, objects);
        GhostFileEntry head = chunks.get(0);
        prepared.add(ghost);
        try {
            GhostFiles.create(ghost, head.getSize(), head.getMode(), head.getUid(), head.getGid());
            // written even when another plugin created it first: its part is the same content at dump
            fill(ghost, chunks);
        } catch (java.nio.file.FileAlreadyExistsException ex) {
            throw new CryoException(CryoException.Category.CONFLICT, "regular-file/GHOST_EXISTS",
                    "restore refused: " + who + " was open on the deleted file " + e.getPath() + ", to be recreated "
                            + "as " + ghost + ", which exists (left by an earlier cryo that was killed?)",
                    "remove " + ghost, ex);
        } catch (IOException | RuntimeException ex) {
            throw new CryoException(CryoException.Category.KERNEL, "regular-file/GHOST_CREATE",
                    "restore failed: recreating the deleted file " + e.getPath() + " as " + ghost + " for " + who
                            + " failed: " + ex, null, ex);
        }
        return ghost;
    }

    /** Notes, while checking the records, an fd opened with O_TMPFILE: every fd on its inode is restored as such. */
    void noteTmpfile(RegularFileEntry e) {
        if (OpenFlags.isTmpfile(e.getFlags())) {
            tmpfileInodes.add(GhostFileDump.key(e.getDev(), e.getInode()));
        }
    }

    /** @return whether {@code e}'s file was made with O_TMPFILE, seen on this fd or another fd on its inode */
    boolean isTmpfile(RegularFileEntry e) {
        return OpenFlags.isTmpfile(e.getFlags()) || tmpfileInodes.contains(GhostFileDump.key(e.getDev(), e.getInode()));
    }

    /**
     * @return the {@code /proc/PID/fd/N} link through which another holder opens the O_TMPFILE file of {@code e},
     *         or empty when this restore has not made it yet
     */
    java.util.Optional<Path> tmpfileHolder(RegularFileEntry e) {
        return java.util.Optional.ofNullable(tmpfiles.get(GhostFileDump.key(e.getDev(), e.getInode())));
    }

    /**
     * Makes the O_TMPFILE file of {@code e} again as fd {@code target} of {@code task}: {@code openat} of its
     * directory with the recorded flags (O_TMPFILE included), then size, owner, permissions and content set from
     * here through the new fd's {@code /proc} link. The caller moves the fd to {@code target} and seeks.
     *
     * @return the fd {@code openat} returned in {@code task}
     */
    long createTmpfile(String who, RemoteTask task, RegularFileEntry e, int flags, ImageSource objects)
            throws CryoException {
        List<GhostFileEntry> chunks = contentOf(who, e, objects);
        GhostFileEntry head = chunks.get(0);
        String dir = java.util.Objects.requireNonNullElse(Path.of(e.getPath()).getParent(), Path.of("/")).toString();
        long addr = task.putScratchString(0, dir);
        long fd = task.syscall("openat(" + dir + ", O_TMPFILE 0" + Integer.toOctalString(flags) + ") for " + who,
                Syscall.OPENAT, FileSyscalls.AT_FDCWD, addr, flags, head.getMode() & 07777);
        Path link = task.procDir().resolve("fd").resolve(Long.toString(fd));
        try {
            try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(link.toFile(), "rw")) {
                f.setLength(head.getSize());
            }
            Files.setAttribute(link, "unix:uid", head.getUid());
            Files.setAttribute(link, "unix:gid", head.getGid());
            Files.setAttribute(link, "unix:mode", head.getMode() & 07777);
            fill(link, chunks);
        } catch (IOException | RuntimeException ex) {
            throw new CryoException(CryoException.Category.KERNEL, "regular-file/GHOST_CREATE",
                    "restore failed: filling the O_TMPFILE file made again in " + dir + " for " + who + " through "
                            + link + " failed: " + ex, null, ex);
        }
        return fd;
    }

    /** Records that fd {@code fd} of {@code task} holds the O_TMPFILE file of {@code e}, for its other holders. */
    void tmpfileMade(RemoteTask task, RegularFileEntry e, int fd) {
        Path link = Path.of("/proc", task.pid().toString(), "fd", Integer.toString(fd));
        tmpfiles.put(GhostFileDump.key(e.getDev(), e.getInode()), link);
        Path named = GhostFiles.restorePath(e.getPath(), e.getInode());
        GhostFiles.madeNameless(named, link); // a mapping of it restored later opens the same file
        nameless.add(named);
    }

    private List<GhostFileEntry> contentOf(String who, RegularFileEntry e, ImageSource objects) throws CryoException {
        if (table == null) {
            table = new HashMap<>();
            for (GhostFileEntry g : objects.read(GhostFileEntry.class)) {
                table.computeIfAbsent(GhostFileDump.key(g.getDev(), g.getInode()), k -> new ArrayList<>()).add(g);
            }
        }
        List<GhostFileEntry> chunks = table.get(GhostFileDump.key(e.getDev(), e.getInode()));
        if (chunks == null) {
            throw new CryoException(CryoException.Category.IMAGE, "regular-file/GHOST_CONTENT_MISSING",
                    "restore failed: " + who + " was open on the deleted file " + e.getPath() + " (inode "
                            + e.getInode() + "), but regular-file.img holds no content for it",
                    "the image is incomplete or corrupt; dump again");
        }
        return chunks;
    }

    private static void fill(Path file, List<GhostFileEntry> chunks) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            for (GhostFileEntry c : chunks) {
                var buf = c.getData().asReadOnlyByteBuffer();
                long at = c.getOffset();
                while (buf.hasRemaining()) {
                    at += ch.write(buf, at);
                }
            }
        }
    }

    /** Unlinks every recreated file; the processes keep them open. Never throws. */
    void unlinkAll() {
        for (Path p : prepared) {
            GhostFiles.unlink(p);
        }
        prepared.clear();
        tmpfiles.clear();
        for (Path p : nameless) { // a loop: a plugin's lambdas are not in the class data archive (issue 13)
            GhostFiles.forgetNameless(p);
        }
        nameless.clear();
        table = null;
    }
}
