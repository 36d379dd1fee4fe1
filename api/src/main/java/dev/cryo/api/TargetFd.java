package dev.cryo.api;

/**
 * A file descriptor number inside a target process. It means nothing in cryo's own fd table; compare
 * {@link LocalFd}.
 *
 * @param value the fd number in the target, {@code >= 0}
 * @since 1.0.0
 */
public record TargetFd(int value) {
    public TargetFd {
        if (value < 0) {
            throw new IllegalArgumentException("fd must be >= 0: " + value);
        }
    }

    public static TargetFd of(int value) {
        return new TargetFd(value);
    }

    @Override
    public String toString() {
        return Integer.toString(value);
    }
}
