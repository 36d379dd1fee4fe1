package dev.cryo.plugin.pipe;

/** Symbolic names of the few errnos this plugin reports itself (core's {@code syscall} names the others). */
final class Errno {
    private Errno() {
    }

    static String describe(long errno) {
        return switch ((int) errno) {
            case 1 -> "EPERM (Operation not permitted)";
            case 9 -> "EBADF (Bad file descriptor)";
            case 11 -> "EAGAIN (Resource temporarily unavailable)";
            case 16 -> "EBUSY (Device or resource busy)";
            case 22 -> "EINVAL (Invalid argument)";
            case 32 -> "EPIPE (Broken pipe)";
            default -> "errno " + errno;
        };
    }
}
