package dev.cryo.core.linux;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.LocalFd;
import dev.cryo.api.Pid;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.TargetFd;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * {@link RemoteTask} over a stopped {@link Tracee}, with a scratch area inside the task for syscall arguments.
 * Used by both pipelines; only on the tracer thread.
 */
public final class LiveTask implements RemoteTask {
    private static final LibC C = LibC.INSTANCE;
    private static final int SELF = (int) C.syscall(Sys.GETPID, 0, 0, 0, 0, 0, 0);

    private final Tracee tracee;
    private final int tgid;
    private final String comm;
    private static final int PAGEMAP_BATCH = 1 << 16;
    private long scratch;
    private int scratchSize;
    private int pagemapFd = -1;
    private int pidfd = -1;
    private NativeMemory pagemapBuffer;

    public LiveTask(Tracee tracee, int tgid, String comm) {
        this.tracee = tracee;
        this.tgid = tgid;
        this.comm = comm;
    }

    public Tracee tracee() {
        return tracee;
    }

    /** Sets the scratch area (address inside the task, size in bytes). */
    public void setScratch(long address, int size) {
        this.scratch = address;
        this.scratchSize = size;
    }

    @Override
    public Pid pid() {
        return Pid.of(tgid);
    }

    @Override
    public String comm() {
        return comm;
    }

    /** @return {@code pid N "comm"} for messages */
    public String who() {
        return "pid " + tgid + " \"" + comm + "\"";
    }

    @Override
    public Path procDir() {
        return ProcFs.dir(tgid);
    }

    @Override
    public long readMemory(long address, ByteBuffer dst) throws CryoException {
        if (!dst.isDirect()) {
            throw new IllegalArgumentException("readMemory needs a direct buffer");
        }
        long n = tracee.readMemory(address, Tracee.address(dst) + dst.position(), dst.remaining());
        if (n < 0) {
            throw Errors.failure("process_vm_readv(0x" + Long.toHexString(address) + ", " + dst.remaining()
                    + " bytes) of " + who(), LibC.errno());
        }
        dst.position(dst.position() + (int) n);
        return n;
    }

    @Override
    public void writeMemory(long address, ByteBuffer src) throws CryoException {
        if (!src.isDirect()) {
            ByteBuffer d = ByteBuffer.allocateDirect(src.remaining()).put(src.duplicate()).flip();
            tracee.writeFully(address, d, "memory");
            src.position(src.limit());
            return;
        }
        tracee.writeFully(address, src, "memory");
    }

    @Override
    public long syscall(String what, dev.cryo.api.Syscall call, long... args) throws CryoException {
        return tracee.injectChecked(what, SyscallTable.number(call), args);
    }

    @Override
    public long syscallRaw(dev.cryo.api.Syscall call, long... args) throws CryoException {
        return tracee.inject(SyscallTable.number(call), args);
    }

    /**
     * In batches of as many calls as the scratch area holds tables of ({@link Tracee#injectBatch}, which injects a
     * batch of one call on its own); without a scratch area, one by one.
     */
    @Override
    public long[] syscallBatchRaw(java.util.List<Call> calls) throws CryoException {
        if (scratch == 0) {
            return RemoteTask.super.syscallBatchRaw(calls);
        }
        long[] results = new long[calls.size()];
        int per = Math.max(1, scratchSize / Tracee.BATCH_ENTRY_SIZE);
        for (int from = 0; from < results.length; from += per) {
            int n = Math.min(per, results.length - from);
            long[][] table = new long[n][];
            for (int i = 0; i < n; i++) {
                Call c = calls.get(from + i);
                long[] entry = new long[1 + c.args().length];
                entry[0] = SyscallTable.number(c.call());
                System.arraycopy(c.args(), 0, entry, 1, c.args().length);
                table[i] = entry;
            }
            System.arraycopy(tracee.injectBatch(scratch, table), 0, results, from, n);
        }
        return results;
    }

    @Override
    @SuppressWarnings("deprecation")
    public long syscall(String what, int nr, long... args) throws CryoException {
        return tracee.injectChecked(what, nr, args);
    }

    @Override
    public long syscallRaw(int nr, long... args) throws CryoException {
        return tracee.inject(nr, args);
    }

    @Override
    public long scratchAddress() {
        if (scratch == 0) {
            throw new IllegalStateException("no scratch area in " + who());
        }
        return scratch;
    }

    @Override
    public int scratchSize() {
        return scratchSize;
    }

    @Override
    public LocalFd pullFd(TargetFd fd) throws CryoException {
        if (pidfd < 0) {
            pidfd = pidfdOf(tgid); // kept until close(): a dump pulls every fd of the process (issue 13)
        }
        return pullFd(pidfd, tgid, fd.value());
    }

    /** Duplicates fd {@code fd} of process {@code pid} into cryo (pidfd_getfd): the same open file description. */
    public static LocalFd pullFd(int pid, int fd) throws CryoException {
        int pidfd = pidfdOf(pid);
        try {
            return pullFd(pidfd, pid, fd);
        } finally {
            C.close(pidfd);
        }
    }

    private static int pidfdOf(int pid) throws CryoException {
        long pidfd = C.syscall(Sys.PIDFD_OPEN, pid, 0, 0, 0, 0, 0);
        if (pidfd < 0) {
            throw Errors.failure("pidfd_open(" + pid + ")", LibC.errno());
        }
        return (int) pidfd;
    }

    /**
     * Duplicates fd {@code fd} of process {@code pid} into cryo through {@code pidfd}, a pidfd of {@code pid} the
     * caller keeps (pidfd_getfd): the same open file description. Any thread.
     */
    public static LocalFd pullFd(int pidfd, int pid, int fd) throws CryoException {
        long local = C.syscall(Sys.PIDFD_GETFD, pidfd, fd, 0, 0, 0, 0);
        if (local < 0) {
            throw Errors.failure("pidfd_getfd(fd " + fd + " of pid " + pid + ")", LibC.errno());
        }
        return new NativeFd((int) local);
    }

    @Override
    public void pushFd(LocalFd fd, TargetFd at, boolean cloexec) throws CryoException {
        long pidfd = syscall("pidfd_open(cryo pid " + SELF + ")", Sys.PIDFD_OPEN, SELF, 0);
        if (pidfd == at.value()) {
            // the pidfd took the very number we must fill: move it out of the way first
            long moved = syscall("fcntl(F_DUPFD_CLOEXEC)", Sys.FCNTL, pidfd, 1030 /* F_DUPFD_CLOEXEC */,
                    at.value() + 1);
            syscallRaw(Sys.CLOSE, pidfd);
            pidfd = moved;
        }
        boolean closed = false;
        try {
            long got = syscall("pidfd_getfd(cryo fd " + fd.value() + ")", Sys.PIDFD_GETFD, pidfd, fd.value(), 0);
            // the calls after pidfd_getfd take no pointer and do not block: one stop instead of three (issue 13)
            java.util.List<Call> rest = new java.util.ArrayList<>(3);
            String what;
            if (got != at.value()) {
                what = "dup3(" + got + ", " + at + ")";
                rest.add(new Call(dev.cryo.api.Syscall.DUP3, got, at.value(), cloexec ? Sys.O_CLOEXEC : 0));
                rest.add(new Call(dev.cryo.api.Syscall.CLOSE, got));
            } else {
                what = "fcntl(" + at + ", F_SETFD, 0)";
                if (!cloexec) {
                    rest.add(new Call(dev.cryo.api.Syscall.FCNTL, at.value(), 2 /* F_SETFD */, 0));
                }
            }
            rest.add(new Call(dev.cryo.api.Syscall.CLOSE, pidfd));
            long[] r = syscallBatchRaw(rest);
            closed = true;
            if (rest.size() > 1 && r[0] < 0) {
                throw tracee.failed(what, r[0]);
            }
            if (got != at.value() && r[1] < 0) {
                throw tracee.failed("close(" + got + ")", r[1]);
            }
        } finally {
            if (!closed) {
                syscallRaw(Sys.CLOSE, pidfd);
            }
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>{@code /proc/PID/pagemap} stays open for the task's lifetime in cryo and is read with pread into one
     * reused buffer: the memory plugin asks once per mapping, and a process may have tens of thousands.
     */
    @Override
    public long[] pagemap(long start, long end) throws CryoException {
        int pages = (int) ((end - start) >>> 12);
        long[] out = new long[pages];
        if (pagemapFd < 0) {
            pagemapFd = C.open(ProcFs.dir(tgid).resolve("pagemap").toString(), Sys.O_RDONLY);
            if (pagemapFd < 0) {
                throw new CryoException(Category.KERNEL, "core/PAGEMAP", "cannot open " + procDir().resolve("pagemap")
                        + ": " + Errors.describe(LibC.errno()));
            }
            pagemapBuffer = NativeMemory.allocate(PAGEMAP_BATCH * 8);
        }
        int done = 0;
        while (done < pages) {
            int n = Math.min(pages - done, PAGEMAP_BATCH);
            long off = ((start >>> 12) + done) * 8L;
            long got = 0;
            while (got < n * 8L) {
                long r = C.pread(pagemapFd, pagemapBuffer.address(got), n * 8L - got, off + got);
                if (r <= 0) {
                    throw new CryoException(Category.KERNEL, "core/PAGEMAP", (r < 0 ? "pread of " : "short read of ")
                            + procDir().resolve("pagemap") + (r < 0 ? ": " + Errors.describe(LibC.errno()) : ""));
                }
                got += r;
            }
            pagemapBuffer.get(0, out, done, n);
            done += n;
        }
        return out;
    }

    /**
     * Closes what this view opened in cryo ({@code /proc/PID/pagemap}, the pidfd {@link #pullFd(TargetFd)} keeps);
     * idempotent, and the view stays usable (they are opened again when needed).
     */
    public void close() {
        if (pagemapFd >= 0) {
            C.close(pagemapFd);
            pagemapFd = -1;
        }
        if (pidfd >= 0) {
            C.close(pidfd);
            pidfd = -1;
        }
    }
}
