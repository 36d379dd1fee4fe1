package dev.cryo.plugin.memory;

import dev.cryo.api.CryoException;
import dev.cryo.api.GhostFiles;
import dev.cryo.api.Mapping;
import dev.cryo.api.Pid;
import dev.cryo.api.RemoteTask;
import dev.cryo.plugin.memory.proto.VmaEntry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * MAP_SHARED mappings of regular files that were unlinked (ghost files: a deleted {@code /dev/shm/sem.*} of a POSIX
 * semaphore, python multiprocessing's arena in {@code /dev/shm}, any file deleted while mapped).
 *
 * <p>Dump: the mapping is recorded as FILE_SHARED with {@code ghost} set, the file's mode and owner, and the
 * non-zero pages of the file it is the first mapping to cover, read and saved like shared memory
 * ({@link SharedMemoryDump#savePages}, keyed by the file's dev/inode) — parts of the file no mapping covers are
 * saved by the {@code regular-file} plugin when an fd holds the file, and are unreachable otherwise.
 *
 * <p>Restore: the file is recreated (or found, when the {@code regular-file} plugin or an earlier mapping came
 * first) at {@link GhostFiles#restorePath} with its size, mode and owner, mapped read-write, and the saved pages are
 * loaded through the mapping, i.e. into the file. {@link #unlinkAll} removes the temporary names once every process
 * is rebuilt.
 *
 * <p>Refused: a MAP_PRIVATE mapping of an unlinked file ({@code memory/DELETED_FILE}: the file's pages under it
 * are not saved), a file whose name was removed but that has other links ({@code memory/DELETED_LINKED}).
 *
 * <p>Lifetime: one instance per restore. Tracer thread only.
 */
final class GhostMappings {
    private final Set<Path> created = new LinkedHashSet<>();

    /** @return whether {@code m} maps an unlinked regular file (not a memfd, not shmem) */
    static boolean isGhost(Mapping m) {
        return m.fileBacked() && GhostFiles.isDeleted(m.name()) && MappingKind.of(m).fileBacked()
                && !SharedMemoryDump.isMemfd(m.name());
    }

    /** Fills the ghost fields of {@code b} for the unlinked file mapped at {@code m}. */
    static void describe(RemoteTask task, Mapping m, VmaEntry.Builder b) throws CryoException {
        String path = GhostFiles.originalPath(m.name());
        if (!m.shared()) {
            throw new CryoException(CryoException.Category.UNSUPPORTED, "memory/DELETED_FILE",
                    String.format("dump refused: pid %s \"%s\" maps %x-%x of %s privately (MAP_PRIVATE), and the "
                                    + "file was deleted; private mappings of deleted files are not supported yet "
                                    + "(shared ones are)", task.pid(), task.comm(), m.start(), m.end(), path),
                    "restart the program so that it maps the current file (after an upgrade that replaced it), or "
                            + "unmap it before dumping");
        }
        Path mapped = task.procDir().resolve("map_files")
                .resolve(Long.toHexString(m.start()) + "-" + Long.toHexString(m.end()));
        Map<String, Object> a;
        try {
            a = Files.readAttributes(mapped, "unix:mode,uid,gid,nlink,size");
        } catch (IOException | RuntimeException e) {
            throw new CryoException(CryoException.Category.KERNEL, "memory/FILE_STAT",
                    "dump failed: stat of " + mapped + " (the deleted file " + path + " mapped by pid " + task.pid()
                            + " \"" + task.comm() + "\" at " + m + ") failed: " + e,
                    "run cryo as root (map_files needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)", e);
        }
        int nlink = (Integer) a.get("nlink");
        if (nlink > 0) {
            throw new CryoException(CryoException.Category.UNSUPPORTED, "memory/DELETED_LINKED",
                    String.format("dump refused: pid %s \"%s\" maps %x-%x of %s, whose name was removed but which "
                                    + "still has %d other link(s) (inode %d); a file with other names cannot be "
                                    + "recreated as one file yet", task.pid(), task.comm(), m.start(), m.end(), path,
                            nlink, m.inode()),
                    "unmap it, or remove the file's other links too, before dumping");
        }
        b.setPath(path).setFileOffset(m.offset()).setDev(m.dev()).setInode(m.inode())
                .setFileSize((Long) a.get("size")).setGhost(true).setGhostMode((Integer) a.get("mode"))
                .setGhostUid((Integer) a.get("uid")).setGhostGid((Integer) a.get("gid"));
    }

    /** Refuses, before anything is injected into the process, a ghost whose directory is gone. */
    static void check(Pid pid, VmaEntry v) throws CryoException {
        Path ghost = GhostFiles.restorePath(v.getPath(), v.getInode());
        String where = String.format("the deleted file %s mapped at %x-%x in pid %s", v.getPath(), v.getStart(),
                v.getEnd(), pid);
        if (!Files.isDirectory(ghost.getParent())) {
            throw new CryoException(CryoException.Category.CONFLICT, "memory/GHOST_DIR_MISSING",
                    "restore refused: " + where + " is recreated in its directory " + ghost.getParent()
                            + " for the restore, but that directory does not exist",
                    "create " + ghost.getParent() + " (the file is unlinked again once the processes are rebuilt)");
        }
        // a name taken by another cryo is found by GhostFiles.create; one this restore created is the one to use
    }

    /** @return the recreated file of {@code v}, created with its size, mode and owner unless it exists already */
    Path prepare(Pid pid, VmaEntry v) throws CryoException {
        Path ghost = GhostFiles.restorePath(v.getPath(), v.getInode());
        java.util.Optional<Path> nameless = GhostFiles.namelessLink(ghost);
        if (nameless.isPresent() && !created.contains(ghost)) {
            return nameless.get(); // made without a name (O_TMPFILE) by the regular-file plugin: the same file
        }
        if (created.add(ghost)) {
            try {
                GhostFiles.create(ghost, v.getFileSize(), v.getGhostMode(), v.getGhostUid(), v.getGhostGid());
            } catch (java.nio.file.FileAlreadyExistsException e) {
                throw new CryoException(CryoException.Category.CONFLICT, "memory/GHOST_EXISTS",
                        String.format("restore refused: the deleted file %s mapped at %x-%x in pid %s is to be "
                                + "recreated as %s, which exists (left by an earlier cryo that was killed?)",
                                v.getPath(), v.getStart(), v.getEnd(), pid, ghost), "remove " + ghost, e);
            } catch (IOException | RuntimeException e) {
                throw new CryoException(CryoException.Category.KERNEL, "memory/GHOST_CREATE",
                        String.format("restore failed: recreating the deleted file %s (mapped at %x-%x in pid %s) as "
                                + "%s failed: %s", v.getPath(), v.getStart(), v.getEnd(), pid, ghost, e), null, e);
            }
        }
        return ghost;
    }

    /** Unlinks the recreated files; the processes keep their mappings. Never throws. */
    void unlinkAll() {
        for (Path g : created) { // a loop: a plugin's lambdas are not in the class data archive
            GhostFiles.unlink(g);
        }
        created.clear();
    }
}
