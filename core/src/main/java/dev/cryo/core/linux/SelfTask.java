package dev.cryo.core.linux;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.LocalFd;
import dev.cryo.api.Pid;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.Syscall;
import dev.cryo.api.TargetFd;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * cryo's own process as a {@link RemoteTask} ({@link HostView#self()}): system calls run directly on the calling
 * thread with cryo's credentials, memory addresses are cryo's own, a scratch area of {@link #SCRATCH_SIZE} bytes is
 * native memory owned by this object. For calls a task of the tree may not make itself (TCP_REPAIR on a socket of a
 * process running as another user, pulled into cryo with {@code pullFd}).
 */
final class SelfTask implements RemoteTask {
    static final int SCRATCH_SIZE = 64 * 1024;
    private static final LibC C = LibC.INSTANCE;
    private static final int F_DUPFD_CLOEXEC = 1030;

    private final int pid = (int) ProcessHandle.current().pid();
    private NativeMemory scratch;

    @Override
    public Pid pid() {
        return Pid.of(pid);
    }

    @Override
    public String comm() {
        return "cryo";
    }

    @Override
    public Path procDir() {
        return Path.of("/proc/self");
    }

    @Override
    public long readMemory(long address, ByteBuffer dst) {
        int n = dst.remaining();
        NativeMemory tmp = NativeMemory.allocate(Math.max(n, 1));
        if (copy(true, tmp.address(), address, n) != n) {
            throw new IllegalStateException("process_vm_readv of cryo's own " + n + " bytes at 0x"
                    + Long.toHexString(address) + " failed: " + Errors.describe(LibC.errno()));
        }
        byte[] b = new byte[n];
        tmp.get(0, b, 0, n);
        dst.put(b);
        return n;
    }

    @Override
    public void writeMemory(long address, ByteBuffer src) {
        int n = src.remaining();
        byte[] b = new byte[n];
        src.get(b);
        NativeMemory tmp = NativeMemory.allocate(Math.max(n, 1));
        tmp.put(0, b, 0, n);
        if (copy(false, tmp.address(), address, n) != n) {
            throw new IllegalStateException("process_vm_writev of cryo's own " + n + " bytes at 0x"
                    + Long.toHexString(address) + " failed: " + Errors.describe(LibC.errno()));
        }
    }

    /** Copies between two buffers of cryo's own memory through the kernel, which checks both ranges. */
    private static long copy(boolean read, long local, long remote, int n) {
        NativeMemory iov = NativeMemory.allocate(32);
        iov.putLong(0, local).putLong(8, n).putLong(16, remote).putLong(24, n);
        int self = (int) ProcessHandle.current().pid();
        return read ? C.process_vm_readv(self, iov.address(), 1, iov.address(16), 1, 0)
                : C.process_vm_writev(self, iov.address(), 1, iov.address(16), 1, 0);
    }

    @Override
    public long syscall(String what, Syscall call, long... args) throws CryoException {
        return checked(what, syscallRaw(call, args));
    }

    @Override
    public long syscallRaw(Syscall call, long... args) {
        return raw(SyscallTable.number(call), args);
    }

    @Override
    @SuppressWarnings("deprecation")
    public long syscall(String what, int nr, long... args) throws CryoException {
        return checked(what, raw(nr, args));
    }

    /** @return {@code r}, a system call's result, unless it is {@code -errno}: then the failure of {@code what} */
    private static long checked(String what, long r) throws CryoException {
        if (r < 0 && r >= -4095) {
            throw Errors.failure(what + " in cryo's own process", (int) -r);
        }
        return r;
    }

    @Override
    @SuppressWarnings("deprecation")
    public long syscallRaw(int nr, long... args) {
        return raw(nr, args);
    }

    private static long raw(int nr, long... args) {
        long[] a = new long[6];
        System.arraycopy(args, 0, a, 0, Math.min(6, args.length));
        long r = C.syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        return r == -1 ? -LibC.errno() : r;
    }

    @Override
    public long scratchAddress() {
        if (scratch == null) {
            scratch = NativeMemory.allocate(SCRATCH_SIZE);
        }
        return scratch.address();
    }

    @Override
    public int scratchSize() {
        return SCRATCH_SIZE;
    }

    /** A duplicate (F_DUPFD_CLOEXEC) of cryo's own fd {@code fd}, e.g. of a socket a plugin created here. */
    @Override
    public LocalFd pullFd(TargetFd fd) throws CryoException {
        long r = raw(SyscallTable.number(Syscall.FCNTL), fd.value(), F_DUPFD_CLOEXEC, 3);
        if (r < 0) {
            throw Errors.failure("fcntl(" + fd + ", F_DUPFD_CLOEXEC) in cryo's own process", (int) -r);
        }
        return new NativeFd((int) r);
    }

    @Override
    public void pushFd(LocalFd fd, TargetFd at, boolean cloexec) throws CryoException {
        throw new CryoException(Category.INTERNAL, "core/SELF_PUSH_FD", "pushFd into cryo's own process is not"
                + " supported: the fd already is cryo's");
    }

    @Override
    public long[] pagemap(long start, long end) throws CryoException {
        throw new CryoException(Category.INTERNAL, "core/SELF_PAGEMAP", "pagemap of cryo's own process is not"
                + " supported");
    }
}
