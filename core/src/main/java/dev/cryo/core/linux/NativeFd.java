package dev.cryo.core.linux;

import dev.cryo.api.LocalFd;

import java.util.concurrent.atomic.AtomicBoolean;

/** An fd of cryo's own process, closed exactly once. */
public final class NativeFd implements LocalFd {
    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    public NativeFd(int fd) {
        this.fd = fd;
    }

    @Override
    public int value() {
        if (closed.get()) {
            throw new IllegalStateException("fd " + fd + " already closed");
        }
        return fd;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            LibC.INSTANCE.close(fd);
        }
    }

    @Override
    public String toString() {
        return "LocalFd(" + fd + ")";
    }
}
