package dev.cryo.api;

/**
 * One fd of a process on the host, as {@link HostKernel#holders} finds it.
 *
 * @param pid   the process
 * @param comm  its name
 * @param fd    the fd number in that process
 * @param flags the open flags from {@code /proc/PID/fdinfo/N} ({@code O_ACCMODE} bits tell a pipe's read end from
 *              its write end), -1 when the fd was closed before they could be read
 * @since 1.1.0
 */
public record FdHolder(Pid pid, String comm, TargetFd fd, int flags) {
    /** @return {@code pid 77 "syslogd" fd 5} */
    @Override
    public String toString() {
        return "pid " + pid + " \"" + comm + "\" fd " + fd;
    }
}
