package dev.cryo.plugin.regularfile;

import dev.cryo.api.SyscallFlags;

/**
 * Open flags (octal values of x86_64 Linux, as {@code /proc/PID/fdinfo/N} prints them) and the decisions made
 * on them. The flags Linux numbers alike on every architecture are {@link SyscallFlags}' values, named here again
 * so that this class lists every flag the decisions use; the others are x86_64's.
 */
public final class OpenFlags {
    public static final int O_ACCMODE = SyscallFlags.O_ACCMODE;
    public static final int O_RDONLY = SyscallFlags.O_RDONLY;
    public static final int O_WRONLY = SyscallFlags.O_WRONLY;
    public static final int O_RDWR = SyscallFlags.O_RDWR;
    public static final int O_CREAT = SyscallFlags.O_CREAT;
    public static final int O_EXCL = SyscallFlags.O_EXCL;
    public static final int O_NOCTTY = SyscallFlags.O_NOCTTY;
    public static final int O_TRUNC = SyscallFlags.O_TRUNC;
    public static final int O_APPEND = SyscallFlags.O_APPEND;
    public static final int O_NONBLOCK = SyscallFlags.O_NONBLOCK;
    public static final int O_DIRECT = 040000;
    public static final int O_LARGEFILE = 0100000;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_NOFOLLOW = 0400000;
    public static final int O_NOATIME = SyscallFlags.O_NOATIME;
    public static final int O_CLOEXEC = SyscallFlags.O_CLOEXEC;
    public static final int O_PATH = SyscallFlags.O_PATH;
    /** {@code O_TMPFILE} as fdinfo shows a file opened with it: {@code __O_TMPFILE | O_DIRECTORY}. */
    public static final int O_TMPFILE = 020000000 | O_DIRECTORY;
    /** File type of a symbolic link (st_mode); an fd on one is always O_PATH|O_NOFOLLOW. */
    public static final int S_IFLNK = 0120000;

    /** Flags that act only at open time (or are fd flags) and must not be replayed: O_TRUNC would empty the file. */
    static final int OPEN_TIME_ONLY = O_CLOEXEC | O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY;

    private OpenFlags() {
    }

    /** @return the flags worth recording: fdinfo flags without O_CLOEXEC, O_CREAT, O_TRUNC, O_EXCL, O_NOCTTY */
    public static int recorded(int fdinfoFlags) {
        return fdinfoFlags & ~OPEN_TIME_ONLY;
    }

    /**
     * @return the flags for the {@code openat} at restore: the recorded ones, O_CLOEXEC when the fd had
     *         FD_CLOEXEC (equivalent to a later {@code fcntl(F_SETFD)}, one injected call fewer), and O_NOCTTY for a
     *         character device so that reopening a tty never makes it the controlling terminal (sessions are core's)
     */
    public static int forOpen(int recorded, boolean cloexec, boolean charDevice) {
        int f = recorded & ~OPEN_TIME_ONLY;
        if ((f & O_PATH) != 0) {
            f &= O_PATH | O_NOFOLLOW | O_DIRECTORY; // what the kernel keeps of an O_PATH open (fdinfo shows more)
        }
        if (cloexec) {
            f |= O_CLOEXEC;
        }
        if (charDevice) {
            f |= O_NOCTTY;
        }
        return f;
    }

    /** @return whether the file was made by {@code open(dir, O_TMPFILE)}: an inode that never had a name */
    public static boolean isTmpfile(int recorded) {
        return (recorded & O_TMPFILE) == O_TMPFILE;
    }

    /**
     * @return the flags to reopen an existing file (e.g. through {@code /proc/PID/fd/N}) that was opened with
     *         {@code O_TMPFILE}: {@link #forOpen} without {@code O_TMPFILE}, which would make another new file
     */
    public static int forReopen(int recorded, boolean cloexec) {
        return forOpen(recorded & ~O_TMPFILE, cloexec, false);
    }

    /**
     * @return whether the file position is restored with {@code lseek}: not for character devices or O_PATH fds
     *         (no position), not when it is 0 (a fresh open is there already). O_APPEND files do get it: writes go
     *         to the end anyway but reads use the position.
     */
    public static boolean needsSeek(int recorded, boolean charDevice, long pos) {
        return !charDevice && (recorded & O_PATH) == 0 && pos != 0;
    }
}
