package dev.cryo.plugin.pipe;

import dev.cryo.api.Errno;
import dev.cryo.api.Syscall;
import dev.cryo.api.CryoException;
import dev.cryo.api.RemoteTask;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static dev.cryo.api.SyscallFlags.*;

/**
 * The flag values this plugin passes to the system calls it injects (named with {@link Syscall}) besides the common
 * ones of {@link dev.cryo.api.SyscallFlags}, and the few injected sequences both pipelines share: reading an
 * {@code int} back from the scratch area, moving bytes between cryo and a task's pipe through the scratch area.
 */
final class PipeSyscalls {

    static final int O_DIRECT = 040000;
    static final int O_LARGEFILE = 0100000;
    /** The status flags F_SETFL changes and the pipe plugin restores (O_ASYNC is core's, with the fd's owner). */
    static final int SETFL_FLAGS = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME;

    static final int F_SETPIPE_SZ = 1031;
    static final int F_GETPIPE_SZ = 1032;
    static final int SPLICE_F_NONBLOCK = 2;

    private PipeSyscalls() {
    }

    /** Reads {@code n} little-endian ints the last injected call left at the start of the scratch area. */
    static int[] scratchInts(RemoteTask task, int n) throws CryoException {
        ByteBuffer b = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        task.readMemory(task.scratchAddress(), b);
        b.flip();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = b.getInt();
        }
        return out;
    }

    /** {@code pipe2(flags)} inside the task: {@code [read end, write end]} as task fd numbers. */
    static int[] pipe2(RemoteTask task, int flags, String why) throws CryoException {
        task.syscall("pipe2(0" + Integer.toOctalString(flags) + ") " + why, Syscall.PIPE2, task.scratchAddress(), flags);
        return scratchInts(task, 2);
    }

    /** {@code ioctl(fd, FIONREAD)} inside the task: the bytes buffered in the pipe. */
    static int bytesBuffered(RemoteTask task, int fd, String what) throws CryoException {
        task.syscall("ioctl(" + what + ", FIONREAD)", Syscall.IOCTL, fd, FIONREAD, task.scratchAddress());
        return scratchInts(task, 1)[0];
    }

    /**
     * Writes {@code data} into the task's fd {@code fd} (a pipe write end opened O_NONBLOCK): one write per packet when
     * {@code packets} is not empty, else in chunks of the scratch size; through the scratch area, or more than three
     * writes as one batch ({@link #writeAllBatched}).
     *
     * @throws CryoException (CONFLICT, {@code pipe/DATA_DOES_NOT_FIT}) when the pipe takes less than all of it
     */
    static void writeAll(RemoteTask task, int fd, byte[] data, java.util.List<Integer> packets, String what)
            throws CryoException {
        java.util.List<int[]> writes = plan(data.length, packets, task.scratchSize(), what);
        if (writes.size() > 3) {
            writeAllBatched(task, fd, data, writes, what);
            return;
        }
        for (int[] w : writes) {
            ByteBuffer b = ByteBuffer.allocateDirect(w[1]).put(data, w[0], w[1]).flip();
            task.writeMemory(task.scratchAddress(), b);
            long n = task.syscallRaw(Syscall.WRITE, fd, task.scratchAddress(), w[1]);
            if (n != w[1]) {
                throw doesNotFit(what, w, data.length, n);
            }
        }
    }

    /**
     * The writes of {@link #writeAll}, {@code {offset, length}} each: one per packet when {@code packets} is not
     * empty, else chunks of the scratch size {@code chunk}.
     */
    private static java.util.List<int[]> plan(int total, java.util.List<Integer> packets, int chunk, String what)
            throws CryoException {
        java.util.List<int[]> writes = new java.util.ArrayList<>();
        int off = 0;
        int packet = 0;
        while (off < total) {
            int len = packets.isEmpty() ? Math.min(chunk, total - off) : packets.get(packet++);
            if (len > chunk || off + len > total) {
                throw new CryoException(CryoException.Category.IMAGE, "pipe/BAD_PACKETS", what + ": packet of "
                        + len + " bytes at offset " + off + " does not fit the " + total
                        + " bytes of data or the scratch area of " + chunk + " bytes");
            }
            writes.add(new int[] {off, len});
            off += len;
        }
        return writes;
    }

    private static CryoException doesNotFit(String what, int[] write, int total, long n) {
        return new CryoException(CryoException.Category.CONFLICT, "pipe/DATA_DOES_NOT_FIT", what
                + ": write of " + write[1] + " bytes at offset " + write[0] + " of " + total + " returned "
                + (n < 0 ? Errno.describe((int) -n) : Long.toString(n)) + "; the pipe cannot take the data it held"
                + " at dump", "give a pipe with room for " + total + " bytes");
    }

    /**
     * {@link #writeAll} in three stops of the task instead of one per write (issue 13): the data goes into a temporary
     * mapping (a batch must not point into the scratch area) and the same writes, of the same sizes, run as one batch.
     * A write that takes less than all fails the restore with the message {@link #writeAll} gives.
     */
    private static void writeAllBatched(RemoteTask task, int fd, byte[] data, java.util.List<int[]> writes,
            String what) throws CryoException {
        long size = Math.max(4096, (data.length + 4095L) & ~4095L);
        long area = task.syscall("mmap(" + size + ") for " + what, Syscall.MMAP, 0, size, PROT_READ | PROT_WRITE,
                0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0);
        try {
            task.writeMemory(area, ByteBuffer.allocateDirect(data.length).put(data).flip());
            java.util.List<RemoteTask.Call> calls = new java.util.ArrayList<>(writes.size());
            for (int[] w : writes) {
                calls.add(new RemoteTask.Call(Syscall.WRITE, fd, area + w[0], w[1]));
            }
            long[] n = task.syscallBatchRaw(calls);
            for (int i = 0; i < n.length; i++) {
                if (n[i] != writes.get(i)[1]) {
                    throw doesNotFit(what, writes.get(i), data.length, n[i]);
                }
            }
        } finally {
            task.syscallRaw(Syscall.MUNMAP, area, size);
        }
    }

    /** Sets or clears O_NONBLOCK on the task's fd as {@code wanted} says; the other status flags stay. */
    static void setNonblock(RemoteTask task, int fd, boolean wanted, String what) throws CryoException {
        long cur = task.syscall("fcntl(" + what + ", F_GETFL)", Syscall.FCNTL, fd, F_GETFL);
        long next = wanted ? (cur | O_NONBLOCK) : (cur & ~O_NONBLOCK);
        if (next != cur) {
            task.syscall("fcntl(" + what + ", F_SETFL, 0" + Long.toOctalString(next) + ")", Syscall.FCNTL, fd, F_SETFL,
                    next);
        }
    }

    /**
     * Sets the status flags F_SETFL can change ({@link #SETFL_FLAGS}: O_NONBLOCK, O_DIRECT, O_APPEND, O_NOATIME) on the
     * task's fd to those of {@code dumped}; the others (O_ASYNC, the access mode) stay as they are.
     */
    static void setStatusFlags(RemoteTask task, int fd, int dumped, String what) throws CryoException {
        long cur = task.syscall("fcntl(" + what + ", F_GETFL)", Syscall.FCNTL, fd, F_GETFL);
        long next = (cur & ~SETFL_FLAGS) | (dumped & SETFL_FLAGS);
        if (next != cur) {
            task.syscall("fcntl(" + what + ", F_SETFL, 0" + Long.toOctalString(next) + ")", Syscall.FCNTL, fd, F_SETFL,
                    next);
        }
    }

    /**
     * Moves the task's fd {@code from} (opened O_CLOEXEC) to number {@code to} (replacing what is there) with
     * FD_CLOEXEC as {@code cloexec} says; {@code from} is closed. When the kernel already gave number {@code to},
     * only FD_CLOEXEC is adjusted.
     */
    static void moveFd(RemoteTask task, int from, int to, boolean cloexec, String who) throws CryoException {
        if (from == to) {
            if (!cloexec) {
                task.syscall("fcntl(" + who + ", F_SETFD, 0)", Syscall.FCNTL, to, F_SETFD, 0);
            }
            return;
        }
        try {
            task.syscall("dup3(" + from + ", " + to + ") for " + who, Syscall.DUP3, from, to, cloexec ? O_CLOEXEC : 0);
        } finally {
            task.syscallRaw(Syscall.CLOSE, from);
        }
    }
}
