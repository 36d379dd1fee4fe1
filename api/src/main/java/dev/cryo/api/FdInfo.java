package dev.cryo.api;

/**
 * What core knows about one fd of a frozen process before any handler looks at it.
 *
 * @param fd      the fd number in the target
 * @param link    target of {@code /proc/PID/fd/N}: a path, {@code pipe:[INO]}, {@code socket:[INO]},
 *                {@code anon_inode:[eventfd]}, with a {@code " (deleted)"} suffix for unlinked files
 * @param mode    {@code st_mode} of the object (file type bits included; see {@link #isRegular()} etc.)
 * @param dev     {@code st_dev} of the object
 * @param inode   {@code st_ino} of the object
 * @param rdev    {@code st_rdev} (character devices)
 * @param size    {@code st_size} at collection time
 * @param mtimeNs {@code st_mtime} in nanoseconds since the epoch
 * @param flags   open flags from {@code /proc/PID/fdinfo/N} (octal there), without O_CLOEXEC
 * @param cloexec whether FD_CLOEXEC is set
 * @param pos     file position from fdinfo
 * @param mntId   mount id from fdinfo
 * @param socketFamily for a socket: {@code unix}, {@code inet}, {@code inet6}, {@code netlink}, {@code packet}, from
 *                     the {@code /proc/net} tables of cryo's network namespace or, for a socket they do not list
 *                     (unbound or bound but not listening TCP, unbound UDP), from the protocol the socket names
 *                     ({@code system.sockprotoname}); empty when neither tells; empty for other files (since 1.1.0)
 * @since 1.0.0
 */
public record FdInfo(TargetFd fd, String link, int mode, long dev, long inode, long rdev, long size, long mtimeNs,
                     int flags, boolean cloexec, long pos, int mntId, String socketFamily) {
    public static final int S_IFMT = 0170000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFIFO = 0010000;
    public static final int S_IFSOCK = 0140000;

    /** The SPI 1.0 constructor: no socket family. */
    public FdInfo(TargetFd fd, String link, int mode, long dev, long inode, long rdev, long size, long mtimeNs,
                  int flags, boolean cloexec, long pos, int mntId) {
        this(fd, link, mode, dev, inode, rdev, size, mtimeNs, flags, cloexec, pos, mntId, "");
    }

    public FdInfo {
        socketFamily = socketFamily == null ? "" : socketFamily;
    }

    /**
     * @return whether this is an AF_UNIX socket
     * @since 1.1.0
     */
    public boolean isUnixSocket() {
        return isSocket() && socketFamily.equals("unix");
    }

    /**
     * @return whether this is an AF_INET or AF_INET6 socket
     * @since 1.1.0
     */
    public boolean isInetSocket() {
        return isSocket() && (socketFamily.equals("inet") || socketFamily.equals("inet6"));
    }

    public boolean isRegular() {
        return (mode & S_IFMT) == S_IFREG;
    }

    public boolean isCharDevice() {
        return (mode & S_IFMT) == S_IFCHR;
    }

    public boolean isDirectory() {
        return (mode & S_IFMT) == S_IFDIR;
    }

    public boolean isFifo() {
        return (mode & S_IFMT) == S_IFIFO;
    }

    public boolean isSocket() {
        return (mode & S_IFMT) == S_IFSOCK;
    }

    /** @return a short name of the file type for messages: {@code regular file}, {@code pipe}, {@code socket}... */
    public String typeName() {
        return switch (mode & S_IFMT) {
            case S_IFREG -> "regular file";
            case S_IFCHR -> "character device";
            case S_IFDIR -> "directory";
            case S_IFIFO -> link.startsWith("pipe:") ? "pipe" : "fifo";
            case S_IFSOCK -> "socket";
            default -> link.startsWith("anon_inode:") ? link : "file of mode 0" + Integer.toOctalString(mode);
        };
    }
}
