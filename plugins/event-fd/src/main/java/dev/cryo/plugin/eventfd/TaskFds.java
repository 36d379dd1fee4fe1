package dev.cryo.plugin.eventfd;

import dev.cryo.api.CryoException;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.Syscall;
import dev.cryo.api.TargetFd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Flag values and the injected sequences the three handlers share. */
final class TaskFds {
    static final int O_NONBLOCK = 04000;
    static final int O_CLOEXEC = 02000000;
    static final int F_SETFD = 2;
    static final int FD_CLOEXEC = 1;

    private TaskFds() {
    }

    /**
     * Moves {@code created} (an fd the handler just made inside the task, with O_CLOEXEC) to {@code at} with
     * FD_CLOEXEC as dumped: {@code dup3} + {@code close}, or only {@code F_SETFD} when the kernel already gave it
     * that number.
     */
    static void place(RemoteTask task, long created, TargetFd at, boolean cloexec, String what)
            throws CryoException {
        if (created != at.value()) {
            try {
                task.syscall("dup3(" + created + ", " + at + ") for " + what, Syscall.DUP3, created, at.value(),
                        cloexec ? O_CLOEXEC : 0);
            } finally {
                task.syscallRaw(Syscall.CLOSE, created);
            }
        } else {
            task.syscall("fcntl(" + at + ", F_SETFD) for " + what, Syscall.FCNTL, at.value(), F_SETFD,
                    cloexec ? FD_CLOEXEC : 0);
        }
    }

    /** Writes little-endian longs at the start of the task's scratch area; returns its address. */
    static long putLongs(RemoteTask task, long... values) throws CryoException {
        ByteBuffer b = ByteBuffer.allocateDirect(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        task.writeMemory(task.scratchAddress(), b.flip());
        return task.scratchAddress();
    }

    /** Reads {@code n} little-endian longs at the start of the task's scratch area. */
    static long[] scratchLongs(RemoteTask task, int n) throws CryoException {
        ByteBuffer b = ByteBuffer.allocateDirect(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        task.readMemory(task.scratchAddress(), b);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = b.getLong(8 * i);
        }
        return out;
    }

    /** {@code pid 812 "redis-server" fd 5} */
    static String who(RemoteTask task, TargetFd fd) {
        return "pid " + task.pid() + " \"" + task.comm() + "\" fd " + fd;
    }
}
