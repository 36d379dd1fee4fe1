package dev.cryo.plugin.pipe;

import dev.cryo.api.LocalFd;

/**
 * Cryo's own stdin, stdout or stderr (fd 0, 1 or 2) as a {@link LocalFd} to push into a restored process with
 * {@code stdio-inherit}. Borrowed: {@link #close()} does nothing, cryo's stdio stays open.
 *
 * @param value 0, 1 or 2
 */
record StdioFd(int value) implements LocalFd {
    StdioFd {
        if (value < 0 || value > 2) {
            throw new IllegalArgumentException("not a stdio fd: " + value);
        }
    }

    @Override
    public void close() {
    }
}
