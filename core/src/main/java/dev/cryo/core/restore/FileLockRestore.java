package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Errno;
import dev.cryo.api.Mapping;
import dev.cryo.core.image.proto.CoreEntry;
import dev.cryo.core.image.proto.FileLockEntry;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.FileLocks;
import dev.cryo.core.linux.LiveTask;
import dev.cryo.core.linux.ProcFs;
import dev.cryo.core.linux.Sys;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Re-takes the file locks of a restored process (dumped with --file-locks, see {@code FileLockDump}) from inside
 * it, once its fds exist: {@code flock(fd, LOCK_SH|LOCK_EX | LOCK_NB)}, {@code fcntl(fd, F_SETLK, &flock)} for a
 * POSIX lock (owned by the process, as before) and {@code fcntl(fd, F_OFD_SETLK, &flock)} for an OFD lock (owned by
 * the open file), with the dumped type and byte range. A lock another process took meanwhile makes the restore fail
 * naming that process; nothing waits.
 */
final class FileLockRestore {
    private static final int FLOCK_SIZE = 32;

    private FileLockRestore() {
    }

    /** Refuses an image holding locks when the restore was not given --file-locks. */
    static void checkOption(List<CoreEntry> cores, boolean enabled) throws CryoException {
        if (enabled) {
            return;
        }
        for (CoreEntry core : cores) {
            if (core.getFileLocksCount() > 0) {
                FileLockEntry l = core.getFileLocks(0);
                throw new CryoException(Category.USAGE, "core/FILE_LOCKS", "restore refused: the image holds file"
                        + " locks (pid " + core.getPid() + " \"" + core.getComm() + "\": " + describe(l) + " on "
                        + l.getPath() + (l.getMappedCount() > 0 ? ", kept by a mapping" : ", fd " + l.getFd())
                        + "), dumped with --file-locks",
                        "pass --file-locks to cryo restore too (or add `file-locks` to conf/cryo.conf)");
            }
        }
    }

    /**
     * Recreates, before any process exists, the files of locks kept by mappings that are gone, from the copy the
     * image holds (another JVM deletes a JVM's hsperfdata file once that pid is dead): the memory restore maps them.
     * A file that exists is left as it is.
     */
    static void recreateMappedFiles(List<CoreEntry> cores) throws CryoException {
        for (CoreEntry core : cores) {
            for (FileLockEntry l : core.getFileLocksList()) {
                Path file = Path.of(l.getPath());
                if (l.getMappedCount() == 0 || !l.hasContent() || Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                try {
                    Path dir = file.getParent();
                    if (dir != null && !Files.isDirectory(dir)) {
                        Files.createDirectories(dir);
                    }
                    Path tmp = Files.createTempFile(dir, ".cryo-", ".tmp");
                    Files.write(tmp, l.getContent().toByteArray());
                    Files.setAttribute(tmp, "unix:uid", l.getUid());
                    Files.setAttribute(tmp, "unix:gid", l.getGid());
                    Files.setAttribute(tmp, "unix:mode", l.getMode());
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException | RuntimeException e) {
                    throw new CryoException(Category.KERNEL, "core/FILE_LOCK", "cannot recreate " + file + " (pid "
                            + core.getPid() + " \"" + core.getComm() + "\" kept a " + describe(l) + " on it through"
                            + " a mapping): " + e.getMessage(), "make " + file.getParent() + " writable, then"
                            + " restore again");
                }
            }
        }
    }

    /** Takes every lock of {@code core} in the process of {@code task}; {@code data} is a scratch address. */
    static void retake(LiveTask task, CoreEntry core, long data) throws CryoException {
        for (FileLockEntry l : core.getFileLocksList()) {
            long r;
            if (l.getMappedCount() > 0) {
                r = retakeThroughMapping(task, l);
            } else if (l.getKind() == FileLockEntry.Kind.FLOCK) {
                r = task.syscallRaw(Sys.FLOCK, l.getFd(), (l.getWrite() ? Sys.LOCK_EX : Sys.LOCK_SH) | Sys.LOCK_NB);
            } else {
                ByteBuffer b = ByteBuffer.allocateDirect(FLOCK_SIZE).order(ByteOrder.LITTLE_ENDIAN);
                b.putShort(0, (short) (l.getWrite() ? Sys.F_WRLCK : Sys.F_RDLCK)).putShort(2, (short) Sys.SEEK_SET)
                        .putLong(8, l.getStart()).putLong(16, l.getEnd() < 0 ? 0 : l.getEnd() - l.getStart() + 1)
                        .putInt(24, 0);
                task.writeMemory(data, b);
                int cmd = l.getKind() == FileLockEntry.Kind.OFD ? Sys.F_OFD_SETLK : Sys.F_SETLK;
                r = task.syscallRaw(Sys.FCNTL, l.getFd(), cmd, data);
            }
            if (r >= 0) {
                continue;
            }
            int errno = (int) -r;
            String what = "cannot restore the " + describe(l) + " of " + task.who() + " on " + l.getPath()
                    + (l.getMappedCount() > 0 ? " (kept by a mapping)" : " (fd " + l.getFd() + ")");
            if (errno == Errno.EAGAIN.number() || errno == Errno.EACCES.number()) {
                throw new CryoException(Category.CONFLICT, "core/FILE_LOCK_TAKEN", what + ": the file is locked now"
                        + holders(l), "release that lock (or stop its holder), then restore again");
            }
            throw new CryoException(Category.KERNEL, "core/FILE_LOCK", what + ": "
                    + (l.getKind() == FileLockEntry.Kind.FLOCK ? "flock" : "fcntl") + " failed: "
                    + Errors.describe(errno));
        }
    }

    /**
     * A flock the process kept only through shared mappings of the file: opens the file again, maps it over the same
     * areas (the pages are the file's, so the memory reads the same), takes the flock on that open file and closes
     * the fd — the mappings keep the open file and its lock, as before the dump.
     *
     * @return the flock's result, or a failed open/mmap's negative errno
     */
    private static long retakeThroughMapping(LiveTask task, FileLockEntry l) throws CryoException {
        boolean writable = l.getMappedList().stream().anyMatch(a -> (a.getProt() & Mapping.PROT_WRITE) != 0);
        long fd = task.syscallRaw(Sys.OPENAT, Sys.AT_FDCWD, task.putScratchString(0, l.getPath()),
                (writable ? Sys.O_RDWR : Sys.O_RDONLY) | Sys.O_CLOEXEC, 0);
        if (fd < 0) {
            throw new CryoException(Category.KERNEL, "core/FILE_LOCK", "cannot restore the " + describe(l) + " of "
                    + task.who() + " kept by its mapping of " + l.getPath() + ": open failed: "
                    + Errors.describe((int) -fd), "make sure " + l.getPath() + " exists, then restore again");
        }
        try {
            for (FileLockEntry.MappedArea a : l.getMappedList()) {
                long at = task.syscallRaw(Sys.MMAP, a.getStart(), a.getEnd() - a.getStart(), a.getProt(),
                        Sys.MAP_SHARED | Sys.MAP_FIXED, fd, a.getOffset());
                if (at != a.getStart()) {
                    throw new CryoException(Category.KERNEL, "core/FILE_LOCK", "cannot restore the " + describe(l)
                            + " of " + task.who() + " kept by its mapping of " + l.getPath() + ": mmap at 0x"
                            + Long.toHexString(a.getStart()) + " failed: "
                            + (at < 0 && at > -4096 ? Errors.describe((int) -at) : "mapped at 0x" + Long.toHexString(at)));
                }
            }
            return task.syscallRaw(Sys.FLOCK, fd, (l.getWrite() ? Sys.LOCK_EX : Sys.LOCK_SH) | Sys.LOCK_NB);
        } finally {
            task.syscallRaw(Sys.CLOSE, fd);
        }
    }

    static String describe(FileLockEntry l) {
        String type = l.getKind() == FileLockEntry.Kind.FLOCK ? (l.getWrite() ? "LOCK_EX" : "LOCK_SH")
                : (l.getWrite() ? "F_WRLCK" : "F_RDLCK");
        return switch (l.getKind()) {
            case FLOCK -> "flock " + type + " lock";
            case OFD -> "OFD " + type + " lock on bytes " + range(l);
            default -> "POSIX " + type + " lock on bytes " + range(l);
        };
    }

    private static String range(FileLockEntry l) {
        return l.getStart() + "-" + (l.getEnd() < 0 ? "EOF" : Long.toString(l.getEnd()));
    }

    /** @return " by pid N "comm" (LINE)" for the current holders of locks on the same file, or "" */
    private static String holders(FileLockEntry l) {
        StringBuilder sb = new StringBuilder();
        try {
            for (FileLocks.Lock held : FileLocks.all()) {
                if (held.devIno().equals(l.getDevIno())) {
                    sb.append(sb.length() == 0 ? " by " : ", ");
                    sb.append(held.pid() > 0 ? "pid " + held.pid() + " \"" + ProcFs.comm(held.pid()) + "\""
                            : "an OFD lock").append(" (").append(held.clazz()).append(' ')
                            .append(held.write() ? "WRITE" : "READ").append(' ').append(held.start()).append('-')
                            .append(held.end() < 0 ? "EOF" : Long.toString(held.end())).append(')');
                }
            }
        } catch (CryoException e) {
            // the message goes out without the holders
        }
        return sb.toString();
    }
}
