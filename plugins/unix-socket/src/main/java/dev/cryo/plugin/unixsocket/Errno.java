package dev.cryo.plugin.unixsocket;

import java.util.Map;

/** Symbolic names of the errnos socket calls return, for messages ({@code EADDRINUSE (Address already in use)}). */
final class Errno {
    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(1, "EPERM (Operation not permitted)"), Map.entry(2, "ENOENT (No such file or directory)"),
            Map.entry(9, "EBADF (Bad file descriptor)"), Map.entry(11, "EAGAIN (Resource temporarily unavailable)"),
            Map.entry(13, "EACCES (Permission denied)"), Map.entry(17, "EEXIST (File exists)"),
            Map.entry(20, "ENOTDIR (Not a directory)"), Map.entry(22, "EINVAL (Invalid argument)"),
            Map.entry(24, "EMFILE (Too many open files)"), Map.entry(32, "EPIPE (Broken pipe)"),
            Map.entry(36, "ENAMETOOLONG (File name too long)"), Map.entry(88, "ENOTSOCK (Socket operation on non-socket)"),
            Map.entry(90, "EMSGSIZE (Message too long)"), Map.entry(98, "EADDRINUSE (Address already in use)"),
            Map.entry(105, "ENOBUFS (No buffer space available)"),
            Map.entry(106, "EISCONN (Transport endpoint is already connected)"),
            Map.entry(107, "ENOTCONN (Transport endpoint is not connected)"),
            Map.entry(111, "ECONNREFUSED (Connection refused)"));

    private Errno() {
    }

    static String describe(long negOrPos) {
        int e = (int) Math.abs(negOrPos);
        return NAMES.getOrDefault(e, "errno " + e);
    }
}
