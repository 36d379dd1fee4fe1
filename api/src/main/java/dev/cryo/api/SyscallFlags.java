package dev.cryo.api;

/**
 * The flag, command and request values that several plugins pass to the system calls they inject
 * ({@link RemoteTask#syscall(String, Syscall, long...)}), written once instead of in a table of each plugin. Only
 * values Linux gives the same number on x86_64 and arm64 (the {@code asm-generic} ones) are here; the open flags
 * that differ between them ({@code O_DIRECTORY}, {@code O_NOFOLLOW}, {@code O_DIRECT}, {@code O_LARGEFILE}) stay
 * with the plugin that needs one. A plugin writes {@code import static dev.cryo.api.SyscallFlags.*}.
 *
 * <p>New constants may be added in minor SPI versions; none is removed before 2.0.
 *
 * @since 1.4.0
 */
public final class SyscallFlags {
    private SyscallFlags() {
    }

    /** {@code openat}'s directory argument for "relative to the working directory". */
    public static final int AT_FDCWD = -100;

    // ---- open(2) flags, as fdinfo's flags: line shows them (octal)
    public static final int O_ACCMODE = 03;
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 01;
    public static final int O_RDWR = 02;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NOCTTY = 0400;
    public static final int O_TRUNC = 01000;
    public static final int O_APPEND = 02000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_NOATIME = 01000000;
    public static final int O_CLOEXEC = 02000000;
    public static final int O_PATH = 010000000;

    // ---- fcntl(2) commands and the fd flag
    public static final int F_GETFD = 1;
    public static final int F_SETFD = 2;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int F_DUPFD_CLOEXEC = 1030;
    /** The one fd flag ({@code F_GETFD}/{@code F_SETFD}). */
    public static final int FD_CLOEXEC = 1;

    /** {@code ioctl(fd, FIONREAD, int *)}: the bytes (pipe, tty, socket) or events (inotify) waiting to be read. */
    public static final int FIONREAD = 0x541B;

    // ---- mmap(2), mprotect(2) protection
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;

    // ---- mmap(2) mapping type and flags
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;

    /** {@code memfd_create(2)}: the fd is close-on-exec. */
    public static final int MFD_CLOEXEC = 1;
}
