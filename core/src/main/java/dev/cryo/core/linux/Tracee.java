package dev.cryo.core.linux;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Errno;

import java.nio.ByteBuffer;

import static dev.cryo.core.linux.Sys.*;

/**
 * ptrace of one task (thread). Not thread-safe: use it only on the {@link TracerThread} that seized it.
 *
 * <p>Syscall injection: {@link #inject} sets {@code rax}=nr, the arguments in rdi rsi rdx r10 r8 r9,
 * {@code rip} = an address holding {@code 0f 05} ({@link #setSyscallInsn}), {@code orig_rax} = -1 (no restart
 * fix-up), single-steps over it and reads {@code rax}. The registers saved at the stop are put back lazily: the
 * next injection sets every register anyway, so they are written back only before the task's registers are read,
 * set otherwise, or the task is resumed or detached — one PTRACE_SETREGSET less per injected call. That is the
 * restore's way (its tasks die with cryo: PTRACE_O_EXITKILL).
 *
 * <p>A dumped task must outlive cryo instead: once {@link #park parked} on a {@link HealingTrampoline}, injection
 * goes through the trampoline with PTRACE_SYSCALL (never PTRACE_SINGLESTEP, whose trap flag outlives the tracer),
 * and the task is left, between calls, on the trampoline's restore path — see {@link HealingTrampoline}.
 */
public final class Tracee {
    private static final LibC C = LibC.INSTANCE;
    private static final int XSTATE_MAX = 1 << 16;

    private final int tid;
    private final String name;
    private final NativeMemory regsBuf = NativeMemory.allocate(Regs.SIZE);
    private final NativeMemory iov = NativeMemory.allocate(16);
    private final NativeMemory small = NativeMemory.allocate(256);
    private final NativeMemory iovs = NativeMemory.allocate(32);
    private final int[] status = new int[1];
    private long syscallInsn;
    private long[] savedRegs;
    /** The task's registers are those left by the last injection, not {@link #savedRegs}. */
    private boolean regsDirty;
    /** Writes into the task's memory still queued, done before the task runs or its memory is read. */
    private PendingWrites pendingWrites;
    private long injected;
    /** Stops waited for ({@link #waitStop}): the cost of the injections, reported at {@link #detach}. */
    private long stops;
    /** The signal of the group stop (job control) the task was seen in, 0 if none. */
    private int groupStopSig;
    private boolean seccompSuspended;
    /** The signal mask the task had at the stop, given back by {@link #unpark}. */
    private long savedMask;
    /** Where the task is parked (its {@link HealingTrampoline} instance), 0 when it is not. */
    private long parkedAt;

    public Tracee(int tid, String name) {
        this.tid = tid;
        this.name = name;
    }

    public int tid() {
        return tid;
    }

    /** Memory writes queued for a task (a restore's page loads), completed before anything could depend on them. */
    public interface PendingWrites {
        /** Completes every queued write; failures are the writer's. */
        void flush() throws CryoException;

        /**
         * Called before the task executes injected call {@code nr(args)}: completes the queued writes unless the
         * call can neither see nor change the memory they go to.
         */
        void beforeSyscall(long nr, long[] args) throws CryoException;
    }

    /**
     * Registers the queue of writes into this task's memory that must be complete before the task executes an
     * injected call that could depend on them (see {@link PendingWrites#beforeSyscall}), before its memory is read
     * or written otherwise, and before it runs; null removes it. The queue itself writes with process_vm_writev,
     * never through this class.
     */
    public void setPendingWrites(PendingWrites writes) {
        this.pendingWrites = writes;
    }

    private void flushPendingWrites() throws CryoException {
        if (pendingWrites != null) {
            pendingWrites.flush();
        }
    }

    public String name() {
        return name;
    }

    /** @return {@code pid N "comm"} for messages */
    public String who() {
        return "pid " + tid + " \"" + name + "\"";
    }

    private long ptrace(int req, long addr, long data, String what) throws CryoException {
        long r = C.ptrace(req, tid, addr, data);
        if (r == -1) {
            int errno = LibC.errno();
            if (errno == Errno.ESRCH.number() && !java.nio.file.Files.exists(java.nio.file.Path.of("/proc/" + tid))) {
                throw new CryoException(Category.CONFLICT, "core/TASK_VANISHED", who() + " vanished while cryo held"
                        + " it stopped (" + what + " failed: ESRCH): something killed it",
                        "do not signal the processes of a tree while cryo dumps or restores it");
            }
            throw Errors.failure(what + " of " + who(), errno);
        }
        return r;
    }

    /**
     * @return whether cryo may seize with PTRACE_O_SUSPEND_SECCOMP, so that a seccomp filter or strict mode never
     * judges the syscalls it injects: the kernel allows it to a tracer with CAP_SYS_ADMIN that is under no seccomp
     * itself (and built with CONFIG_CHECKPOINT_RESTORE, which choosing pids needs too)
     */
    public static boolean canSuspendSeccomp() {
        try {
            java.util.Map<String, String> self = ProcFs.status((int) ProcessHandle.current().pid());
            return "0".equals(self.get("Seccomp")) && (ProcFs.hexField(self, "CapEff") & (1L << 21)) != 0;
        } catch (CryoException e) {
            return false;
        }
    }

    /** @return whether the task was seized with PTRACE_O_SUSPEND_SECCOMP */
    public boolean seccompSuspended() {
        return seccompSuspended;
    }

    /** The cBPF program of seccomp filter {@code index} (0 = the newest), or null when the task has no such filter. */
    public byte[] seccompFilter(int index) throws CryoException {
        long n = C.ptrace(PTRACE_SECCOMP_GET_FILTER, tid, index, 0);
        if (n == -1) {
            int e = LibC.errno();
            if (e == Errno.ENOENT.number()) {
                return null;
            }
            throw Errors.failure("PTRACE_SECCOMP_GET_FILTER(" + index + ") of " + who(), e);
        }
        NativeMemory buf = NativeMemory.allocate((int) n * 8);
        long m = ptrace(PTRACE_SECCOMP_GET_FILTER, index, buf.address(), "PTRACE_SECCOMP_GET_FILTER");
        byte[] b = new byte[(int) Math.min(n, m) * 8];
        buf.get(0, b, 0, b.length);
        return b;
    }

    /** The flags seccomp filter {@code index} was installed with (SECCOMP_FILTER_FLAG_LOG). */
    public long seccompFilterFlags(int index) throws CryoException {
        small.putLong(0, index);
        small.putLong(8, 0);
        ptrace(PTRACE_SECCOMP_GET_METADATA, 16, small.address(), "PTRACE_SECCOMP_GET_METADATA");
        return small.getLong(8);
    }

    public void seize(int options) throws CryoException {
        long r = C.ptrace(PTRACE_SEIZE, tid, 0, options);
        if (r == -1) {
            int e = LibC.errno();
            throw new CryoException(Category.KERNEL, "core/SEIZE_FAILED",
                    "cannot freeze " + who() + ": PTRACE_SEIZE failed: " + Errors.describe(e),
                    e == Errno.EPERM.number()
                            ? "run cryo as root; make sure no debugger or other cryo traces the process" : null);
        }
        seccompSuspended = (options & PTRACE_O_SUSPEND_SECCOMP) != 0;
    }

    public void interrupt() throws CryoException {
        ptrace(PTRACE_INTERRUPT, 0, 0, "PTRACE_INTERRUPT");
    }

    public void setOptions(int options) throws CryoException {
        ptrace(PTRACE_SETOPTIONS, 0, options, "PTRACE_SETOPTIONS");
    }

    public void detach(int sig) throws CryoException {
        org.slf4j.LoggerFactory.getLogger(Tracee.class).debug("{}: {} calls injected in {} stops", who(), injected,
                stops);
        flushPendingWrites();
        settleRegs();
        ptrace(PTRACE_DETACH, 0, sig, "PTRACE_DETACH");
    }

    /** Detaches, ignoring errors (cleanup paths). */
    public void detachQuietly() {
        try {
            settleRegs();
        } catch (CryoException e) {
            // detach all the same: cleanup
        }
        C.ptrace(PTRACE_DETACH, tid, 0, 0);
    }

    public void cont(int sig) throws CryoException {
        flushPendingWrites();
        settleRegs();
        ptrace(PTRACE_CONT, 0, sig, "PTRACE_CONT");
    }

    /** Puts the registers saved at the stop back when an injection left others. */
    private void settleRegs() throws CryoException {
        if (regsDirty) {
            writeRegs(savedRegs);
        }
    }

    public long eventMessage() throws CryoException {
        ptrace(PTRACE_GETEVENTMSG, 0, small.address(), "PTRACE_GETEVENTMSG");
        return small.getLong(0);
    }

    /** waitpid(tid, __WALL), retrying EINTR. */
    public int waitStatus() throws CryoException {
        for (;;) {
            int r = C.waitpid(tid, status, WALL);
            if (r == tid) {
                return status[0];
            }
            int e = LibC.errno();
            if (e != Errno.EINTR.number()) {
                throw Errors.failure("waitpid(" + tid + ")", e);
            }
        }
    }

    /**
     * Waits for the next ptrace stop. A signal-delivery stop of another signal that arrives meanwhile is kept
     * pending by re-queueing it with the next resume of the caller: here it is simply reported.
     */
    public int waitStop() throws CryoException {
        stops++;
        int s = waitStatus();
        if (!stopped(s)) {
            throw new CryoException(Category.KERNEL, "core/TASK_VANISHED", who() + " " + describeStatus(s)
                    + " while cryo held it stopped");
        }
        return s;
    }

    /**
     * Interrupts the task and waits until it is in the interrupt (or group) stop. A signal that was about to be
     * delivered when the interrupt arrived shows up first as a signal-delivery stop; it is delivered as it would
     * have been (the handler frame is set up) and the wait goes on, so no signal is lost or duplicated.
     */
    public void freeze() throws CryoException {
        interrupt();
        long deadline = System.nanoTime() + FREEZE_TIMEOUT_NS;
        for (;;) {
            int s = waitStopUntil(deadline);
            if (event(s) == PTRACE_EVENT_STOP) {
                noteTrap(s);
                return;
            }
            cont(stopSig(s));
        }
    }

    /**
     * A PTRACE_EVENT_STOP reports SIGTRAP for an interrupt, or the stop signal while the thread group is in a group
     * stop (SIGSTOP, SIGTSTP... : the process is stopped by job control).
     */
    private void noteTrap(int s) {
        if (stopSig(s) != SIGTRAP) {
            groupStopSig = stopSig(s);
        }
    }

    /**
     * @return the stop signal (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) when the task was found in a group stop (stopped by
     * job control) while cryo held it, else 0. ptrace hides the group stop: the task is traced, not stopped.
     */
    public int groupStopSig() {
        return groupStopSig;
    }

    private static final long FREEZE_TIMEOUT_NS = 10_000_000_000L;
    /** How long {@link #waitStopUntil} polls without sleeping before it sleeps a millisecond between polls. */
    private static final long SPIN_NS = 2_000_000L;

    /** Like {@link #waitStop()}, but gives up at {@code deadline} (a task stuck in D state never stops). */
    private int waitStopUntil(long deadline) throws CryoException {
        long spinUntil = System.nanoTime() + SPIN_NS;
        for (;;) {
            int r = C.waitpid(tid, status, WALL | WNOHANG);
            if (r == tid) {
                if (!stopped(status[0])) {
                    throw new CryoException(Category.CONFLICT, "core/TASK_VANISHED", who() + " "
                            + describeStatus(status[0]) + " while cryo was freezing it");
                }
                return status[0];
            }
            if (r == -1 && LibC.errno() != Errno.EINTR.number()) {
                throw Errors.failure("waitpid(" + tid + ")", LibC.errno());
            }
            if (System.nanoTime() > deadline) {
                String state = "?";
                try {
                    state = ProcFs.stat(tid).state() + ", wchan " + ProcFs.readText(ProcFs.dir(tid).resolve("wchan"));
                } catch (CryoException | java.io.IOException e) {
                    // report without it
                }
                throw new CryoException(Category.KERNEL, "core/FREEZE_TIMEOUT", "cannot freeze " + who()
                        + ": it did not stop within " + FREEZE_TIMEOUT_NS / 1_000_000_000L + " s (state " + state
                        + "); the tree was released", "retry when the process is not blocked in the kernel"
                        + " (D state: hung NFS or device)");
            }
            if (System.nanoTime() < spinUntil && !Thread.currentThread().isInterrupted()) {
                Thread.yield(); // a running or sleeping task stops within microseconds: a 1 ms sleep would cost more
                continue;
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CryoException(Category.INTERNAL, "core/INTERRUPTED", "interrupted while freezing " + who());
            }
        }
    }

    public long[] getRegs() throws CryoException {
        settleRegs();
        return readRegs();
    }

    /** The registers as the task has them now, even in the middle of an injection (no settling). */
    private long[] readRegs() throws CryoException {
        iov.putLong(0, regsBuf.address());
        iov.putLong(8, Regs.SIZE);
        ptrace(PTRACE_GETREGSET, NT_PRSTATUS, iov.address(), "PTRACE_GETREGSET(NT_PRSTATUS)");
        long[] r = new long[Regs.COUNT];
        regsBuf.get(0, r, 0, Regs.COUNT);
        return r;
    }

    public void setRegs(long[] r) throws CryoException {
        writeRegs(r);
    }

    private void writeRegs(long[] r) throws CryoException {
        regsBuf.put(0, r, 0, Regs.COUNT);
        iov.putLong(0, regsBuf.address());
        iov.putLong(8, Regs.SIZE);
        ptrace(PTRACE_SETREGSET, NT_PRSTATUS, iov.address(), "PTRACE_SETREGSET(NT_PRSTATUS)");
        regsDirty = false;
    }

    /** NT_X86_XSTATE; the kernel writes the real size back into the iovec. */
    public byte[] getXstate() throws CryoException {
        NativeMemory buf = NativeMemory.allocate(XSTATE_MAX);
        iov.putLong(0, buf.address());
        iov.putLong(8, XSTATE_MAX);
        ptrace(PTRACE_GETREGSET, NT_X86_XSTATE, iov.address(), "PTRACE_GETREGSET(NT_X86_XSTATE)");
        int len = (int) iov.getLong(8);
        byte[] b = new byte[len];
        buf.get(0, b, 0, len);
        return b;
    }

    public void setXstate(byte[] b) throws CryoException {
        NativeMemory buf = NativeMemory.allocate(b.length);
        buf.put(0, b, 0, b.length);
        iov.putLong(0, buf.address());
        iov.putLong(8, b.length);
        ptrace(PTRACE_SETREGSET, NT_X86_XSTATE, iov.address(), "PTRACE_SETREGSET(NT_X86_XSTATE)");
    }

    public long getSigmask() throws CryoException {
        ptrace(PTRACE_GETSIGMASK, 8, small.address(), "PTRACE_GETSIGMASK");
        return small.getLong(0);
    }

    public void setSigmask(long mask) throws CryoException {
        small.putLong(0, mask);
        ptrace(PTRACE_SETSIGMASK, 8, small.address(), "PTRACE_SETSIGMASK");
    }

    /** @return {ptr, size, signature, flags} of the registered rseq area; ptr 0 when none */
    public long[] getRseq() throws CryoException {
        ptrace(PTRACE_GET_RSEQ_CONFIGURATION, 24, small.address(), "PTRACE_GET_RSEQ_CONFIGURATION");
        return new long[]{small.getLong(0), small.getInt(8) & 0xffffffffL, small.getInt(12) & 0xffffffffL,
                small.getInt(16) & 0xffffffffL};
    }

    /**
     * Pending signals of the task's private queue, or of the process-wide queue when {@code shared}, as raw
     * 128-byte siginfo_t in queue order; non-destructive (PTRACE_PEEKSIGINFO).
     */
    public java.util.List<byte[]> peekPendingSignals(boolean shared) throws CryoException {
        java.util.List<byte[]> out = new java.util.ArrayList<>();
        NativeMemory args = NativeMemory.allocate(16);
        NativeMemory info = NativeMemory.allocate(128);
        for (long off = 0; ; off++) {
            args.putLong(0, off);
            args.putInt(8, shared ? PTRACE_PEEKSIGINFO_SHARED : 0);
            args.putInt(12, 1);
            long n = ptrace(PTRACE_PEEKSIGINFO, args.address(), info.address(), "PTRACE_PEEKSIGINFO");
            if (n <= 0) {
                return out;
            }
            byte[] b = new byte[128];
            info.get(0, b, 0, 128);
            out.add(b);
        }
    }

    // ------------------------------------------------------------------ memory

    /** process_vm_readv of {@code len} bytes at {@code remote} into native memory at {@code local}. */
    public long readMemory(long remote, long local, long len) throws CryoException {
        prepareIovs(remote, local, len);
        return C.process_vm_readv(tid, iovs.address(), 1, iovs.address(16), 1, 0);
    }

    /** process_vm_writev of {@code len} bytes from native memory at {@code local} to {@code remote}. */
    public long writeMemory(long remote, long local, long len) throws CryoException {
        prepareIovs(remote, local, len);
        return C.process_vm_writev(tid, iovs.address(), 1, iovs.address(16), 1, 0);
    }

    /**
     * Before a process_vm_readv/writev: flushes the pending writes (the call must see them), then sets {@link #iovs}
     * to the local iovec at 0 and the remote one at 16, {@code len} bytes each.
     */
    private void prepareIovs(long remote, long local, long len) throws CryoException {
        flushPendingWrites();
        iovs.putLong(0, local);
        iovs.putLong(8, len);
        iovs.putLong(16, remote);
        iovs.putLong(24, len);
    }

    public static long address(ByteBuffer direct) {
        return LibC.address(direct);
    }

    /** Reads exactly {@code dst.remaining()} bytes or throws. */
    public void readFully(long remote, ByteBuffer dst, String what) throws CryoException {
        long want = dst.remaining();
        long n = readMemory(remote, address(dst) + dst.position(), want);
        if (n != want) {
            throw new CryoException(Category.KERNEL, "core/MEMORY_READ",
                    "process_vm_readv(" + what + " at 0x" + Long.toHexString(remote) + ", " + want + " bytes) of "
                            + who() + " failed: " + (n < 0 ? Errors.describe(LibC.errno()) : "short read " + n));
        }
        dst.position(dst.position() + (int) want);
    }

    /** Writes exactly {@code src.remaining()} bytes or throws. */
    public void writeFully(long remote, ByteBuffer src, String what) throws CryoException {
        long want = src.remaining();
        long done = 0;
        long base = address(src) + src.position();
        while (done < want) {
            long n = writeMemory(remote + done, base + done, want - done);
            if (n <= 0) {
                throw new CryoException(Category.KERNEL, "core/MEMORY_WRITE",
                        "process_vm_writev(" + what + " at 0x" + Long.toHexString(remote + done) + ", "
                                + (want - done) + " bytes) of " + who() + " failed: "
                                + (n < 0 ? Errors.describe(LibC.errno()) : "wrote nothing"));
            }
            done += n;
        }
        src.position(src.position() + (int) want);
    }

    // ------------------------------------------------------------------ syscall injection

    /** Sets the address of a {@code syscall} instruction in the task used by {@link #inject}. */
    public void setSyscallInsn(long address) {
        this.syscallInsn = address;
    }

    public long syscallInsn() {
        return syscallInsn;
    }

    /** Registers to restore after each injection (normally those read at the stop). */
    public void setSavedRegs(long[] regs) {
        this.savedRegs = regs.clone();
    }

    public long[] savedRegs() {
        return savedRegs.clone();
    }

    /** @return how many syscalls were injected into this task */
    public long injectedCount() {
        return injected;
    }

    /**
     * Injects one syscall and returns the raw result ({@code -errno} on failure).
     *
     * @throws CryoException INTERRUPTED when cryo was asked to stop: the pipeline then unwinds
     */
    public long inject(long nr, long... a) throws CryoException {
        StopRequest.check();
        return injectAlways(nr, a);
    }

    /** Like {@link #inject} even when cryo was asked to stop: for undoing cryo's own traces on the way out. */
    public long injectAlways(long nr, long... a) throws CryoException {
        if (parkedAt != 0) {
            return injectParked(nr, a);
        }
        prepareInjection(nr, a);
        int s = singleStep(nr);
        if (stopSig(s) != SIGTRAP || event(s) != 0) {
            throw injectionStop(nr, s);
        }
        return finishInjection();
    }

    /**
     * Single-steps over the prepared syscall. A job-control trap that was pending (a seized task of a stopped
     * group traps once more; a SIGSTOP still queued stops the group) comes before any instruction runs: it is
     * noted, and the step is retried.
     */
    private int singleStep(long nr) throws CryoException {
        int deliver = 0;
        for (int attempt = 0; ; attempt++) {
            ptrace(PTRACE_SINGLESTEP, 0, deliver, "PTRACE_SINGLESTEP");
            int s = waitStop();
            boolean trap = event(s) == PTRACE_EVENT_STOP;
            // a SIGSTOP (it cannot be blocked) queued before cryo seized the task, dequeued before the instruction:
            // let it stop the group as it would have, the group-stop trap follows, then the step is retried
            boolean queuedStop = event(s) == 0 && stopSig(s) == SIGSTOP;
            if (!(trap || queuedStop) || attempt == 8) {
                return s;
            }
            if (trap) {
                noteTrap(s);
            }
            deliver = queuedStop ? SIGSTOP : 0;
            long rip = readRegs()[Regs.RIP];   // mid-injection: getRegs() would put the saved ones back
            if (rip != syscallInsn) {
                throw new CryoException(Category.INTERNAL, "core/INJECTION_STOP", "injected syscall " + nr + " in "
                        + who() + ": a job-control trap came after the instruction ran (rip 0x" + Long.toHexString(rip)
                        + ", " + describeStatus(s) + ")");
            }
        }
    }

    /**
     * Injects a fork-like call (clone3 without CLONE_VM...) into a task traced with PTRACE_O_TRACEFORK|TRACECLONE
     * and returns the new process's pid; the new process is auto-attached to this tracer and left stopped.
     */
    public long injectFork(long nr, long... a) throws CryoException {
        StopRequest.check();
        prepareInjection(nr, a);
        long child = -1;
        int s = singleStep(nr);
        for (;; s = waitStop()) {
            int ev = event(s);
            if (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_CLONE) {
                child = eventMessage();
                ptrace(PTRACE_SINGLESTEP, 0, 0, "PTRACE_SINGLESTEP");
                continue;
            }
            if (stopSig(s) != SIGTRAP || ev != 0) {
                throw injectionStop(nr, s);
            }
            break;
        }
        long r = finishInjection();
        if (r < 0) {
            return r;
        }
        if (child != r) {
            throw new CryoException(Category.INTERNAL, "core/FORK_EVENT", "injected fork in " + who()
                    + " returned " + r + " but the fork event named " + child);
        }
        return r;
    }

    /**
     * Makes the task end with wait status {@code waitStatus}: an injected {@code exit_group(code)}, or
     * {@code kill(self, sig)} delivered with its default action. Returns once the tracer has seen it die; the
     * task is then a zombie for its real parent to reap.
     */
    public void injectExit(int waitStatus) throws CryoException {
        int sig = waitStatus & 0x7f;
        if (sig != 0) {
            prepareInjection(Sys.KILL, new long[]{tid, sig});
        } else {
            prepareInjection(Sys.EXIT_GROUP, new long[]{(waitStatus >> 8) & 0xff});
        }
        ptrace(PTRACE_CONT, 0, 0, "PTRACE_CONT");
        for (;;) {
            int s = waitStatus();
            if (!stopped(s)) {
                return;
            }
            int stopSig = stopSig(s);
            ptrace(PTRACE_CONT, 0, event(s) == 0 && stopSig != SIGTRAP ? stopSig : 0, "PTRACE_CONT");
        }
    }

    private void prepareInjection(long nr, long[] a) throws CryoException {
        if (parkedAt != 0) {
            throw new IllegalStateException("single-step injection into parked " + who());
        }
        if (syscallInsn == 0 || savedRegs == null) {
            throw new IllegalStateException("injection not prepared for " + who());
        }
        if (pendingWrites != null) {
            pendingWrites.beforeSyscall(nr, a);
        }
        writeRegs(callRegs(syscallInsn, nr, a));
        regsDirty = true;
        injected++;
    }

    /**
     * @return the saved registers set for one injected call: {@code rip}, the call number {@code nr} and its
     *         arguments {@code a} (up to six, missing ones 0), no syscall to restart
     */
    private long[] callRegs(long rip, long nr, long[] a) {
        long[] r = savedRegs.clone();
        r[Regs.RAX] = nr;
        r[Regs.ORIG_RAX] = -1;
        r[Regs.RIP] = rip;
        r[Regs.RDI] = a.length > 0 ? a[0] : 0;
        r[Regs.RSI] = a.length > 1 ? a[1] : 0;
        r[Regs.RDX] = a.length > 2 ? a[2] : 0;
        r[Regs.R10] = a.length > 3 ? a[3] : 0;
        r[Regs.R8] = a.length > 4 ? a[4] : 0;
        r[Regs.R9] = a.length > 5 ? a[5] : 0;
        return r;
    }

    private long finishInjection() throws CryoException {
        iov.putLong(0, regsBuf.address());
        iov.putLong(8, Regs.SIZE);
        ptrace(PTRACE_GETREGSET, NT_PRSTATUS, iov.address(), "PTRACE_GETREGSET(NT_PRSTATUS)");
        return regsBuf.getLong(Regs.RAX * 8L);
    }

    private CryoException injectionStop(long nr, int s) {
        return new CryoException(Category.INTERNAL, "core/INJECTION_STOP", "injected syscall " + nr + " in " + who()
                + " ended in an unexpected stop: " + describeStatus(s));
    }

    // ------------------------------------------------------------------ parking (dump)

    /** The signal mask to give back at {@link #unpark} (normally the one read at the stop). */
    public void setSavedMask(long mask) {
        this.savedMask = mask;
    }

    /** @return where the task is parked, 0 when it runs on its own registers */
    public long parkedAt() {
        return parkedAt;
    }

    /**
     * Parks the task on a {@link HealingTrampoline} instance at {@code at}, in an executable mapping of its process:
     * writes the instance (holding the saved registers and mask) through /proc/TID/mem — so a read-only mapping
     * such as the vdso does too —, points the task at its restore path, then blocks every signal. From the register
     * write on, the task heals itself if cryo dies. A parked task may move to another instance: the new one is
     * written and used before the caller may remove the old one. Injected calls then go through it.
     */
    public void park(long at) throws CryoException {
        if (savedRegs == null) {
            throw new IllegalStateException("no saved registers to park " + who());
        }
        forceWrite(at, HealingTrampoline.instance(savedRegs, savedMask), "healing trampoline");
        long[] r = savedRegs.clone();
        r[Regs.RIP] = at + HealingTrampoline.R;
        r[Regs.ORIG_RAX] = -1;
        writeRegs(r);
        boolean first = parkedAt == 0;
        parkedAt = at;
        if (first) {
            setSigmask(-1L);
        }
    }

    /**
     * Gives the task its own signal mask, then its own registers (each step leaves a task that would heal itself),
     * as saved at the stop: an interrupted call restarts when the task resumes, as it would have without cryo.
     */
    public void unpark() throws CryoException {
        setSigmask(savedMask);
        writeRegs(savedRegs);
        parkedAt = 0;
    }

    /**
     * Writes {@code bytes} at {@code address} through /proc/TID/mem, which (unlike process_vm_writev) writes into a
     * mapping the task may not write, as a debugger sets a breakpoint: a private copy of the page is made.
     */
    public void forceWrite(long address, byte[] bytes, String what) throws CryoException {
        try (java.io.RandomAccessFile mem = new java.io.RandomAccessFile("/proc/" + tid + "/mem", "rw")) {
            mem.seek(address);
            mem.write(bytes);
        } catch (java.io.IOException e) {
            throw new CryoException(Category.KERNEL, "core/MEMORY_WRITE", "writing " + bytes.length + " bytes of "
                    + what + " at 0x" + Long.toHexString(address) + " of " + who() + " through /proc/" + tid
                    + "/mem failed: " + e.getMessage());
        }
    }

    /**
     * One call through the parked task's trampoline: {@code rip} = its {@code syscall}, PTRACE_SYSCALL to the
     * syscall-entry stop, then to the syscall-exit stop, where the task is on the restore path again with the
     * result in {@code rax}. Job-control stops before the call are noted and passed over as in {@link #singleStep}.
     */
    private long injectParked(long nr, long[] a) throws CryoException {
        writeRegs(callRegs(parkedAt + HealingTrampoline.T, nr, a));
        injected++;
        boolean entered = false;
        int deliver = 0;
        for (int stops = 0; stops < 16; stops++) {
            ptrace(PTRACE_SYSCALL, 0, deliver, "PTRACE_SYSCALL");
            deliver = 0;
            int s = waitStop();
            if (stopSig(s) == (SIGTRAP | 0x80) && event(s) == 0) {
                if (!entered) {
                    entered = true;
                    continue;
                }
                return backOnTrampoline("injected syscall " + nr)[Regs.RAX];
            }
            deliver = passParkedStop(s, !entered, () -> injectionStop(nr, s));
        }
        throw new CryoException(Category.INTERNAL, "core/INJECTION_STOP", "injected syscall " + nr + " in " + who()
                + " did not complete through 16 stops");
    }

    // ------------------------------------------------------------------ batches of injected calls

    /**
     * The loop both batch executors share: {@code 1: test r13,r13; jz 2f; mov rax,[r12]; mov rdi,[r12+8];
     * mov rsi,[r12+16]; mov rdx,[r12+24]; mov r10,[r12+32]; mov r8,[r12+40]; mov r9,[r12+48]; syscall;
     * mov [r12+56],rax; add r12,64; dec r13; jmp 1b; 2:} (the label 2 is the byte after it).
     */
    private static final byte[] BATCH_LOOP = {
        0x4d, (byte) 0x85, (byte) 0xed, 0x74, 0x32,
        0x49, (byte) 0x8b, 0x04, 0x24, 0x49, (byte) 0x8b, 0x7c, 0x24, 0x08, 0x49, (byte) 0x8b, 0x74, 0x24, 0x10,
        0x49, (byte) 0x8b, 0x54, 0x24, 0x18, 0x4d, (byte) 0x8b, 0x54, 0x24, 0x20, 0x4d, (byte) 0x8b, 0x44, 0x24,
        0x28, 0x4d, (byte) 0x8b, 0x4c, 0x24, 0x30, 0x0f, 0x05, 0x49, (byte) 0x89, 0x44, 0x24, 0x38, 0x49,
        (byte) 0x83, (byte) 0xc4, 0x40, 0x49, (byte) 0xff, (byte) 0xcd, (byte) 0xeb, (byte) 0xc9,
    };

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /**
     * The batch executor, x86-64 and position independent: for each of RSI 64-byte entries at RDI, laid out as
     * {@code {nr, a1, a2, a3, a4, a5, a6, result}}, {@code result = syscall(nr, a1..a6)}; then {@code int3}.
     * Assembled from: {@code mov r12,rdi; mov r13,rsi; 1: test r13,r13; jz 2f; mov rax,[r12]; mov rdi,[r12+8];
     * mov rsi,[r12+16]; mov rdx,[r12+24]; mov r10,[r12+32]; mov r8,[r12+40]; mov r9,[r12+48]; syscall;
     * mov [r12+56],rax; add r12,64; dec r13; jmp 1b; 2: int3}.
     */
    private static final byte[] BATCH_CODE = concat(new byte[]{0x49, (byte) 0x89, (byte) 0xfc, 0x49, (byte) 0x89,
        (byte) 0xf5}, BATCH_LOOP, new byte[]{(byte) 0xcc});
    /** Bytes an executable area needs to hold the batch executor. */
    public static final int BATCH_CODE_SIZE = 64;
    /** Bytes of the task's memory one call of a batch takes in its table. */
    public static final int BATCH_ENTRY_SIZE = 64;

    /** Where the batch executor is in the task; 0: none, calls of a batch are injected one by one. */
    private long batchCode;

    /**
     * Writes the batch executor at {@code address} (in an executable mapping of the task, {@link #BATCH_CODE_SIZE}
     * bytes) for {@link #injectBatch}.
     */
    public void installBatchCode(long address) throws CryoException {
        writeCode(address, BATCH_CODE);
        batchCode = address;
    }

    /** Writes the machine code {@code code} at {@code address} of the task (through /proc/TID/mem). */
    private void writeCode(long address, byte[] code) throws CryoException {
        ByteBuffer b = ByteBuffer.allocateDirect(code.length).put(code).flip();
        writeFully(address, b, "batch code");
    }

    /** Uses the batch executor already at {@code address} (a task cloned from one that has it); 0: none. */
    public void useBatchCode(long address) {
        batchCode = address;
    }

    /** @return where the batch executor is in the task, 0 when none */
    public long batchCode() {
        return batchCode;
    }

    /**
     * Runs {@code calls} — each {@code {nr, a1, ..., a6}}, missing arguments 0 — one after the other in the task, in a
     * single stop instead of one per call: the table goes into the task at {@code table} ({@code calls.length *}
     * {@link #BATCH_ENTRY_SIZE} bytes of scratch memory), the task runs the batch executor and traps, the results come
     * back in one read. Every call runs, also after one failed. The calls must not block, and the task's signals
     * must be blocked (they are while cryo holds it). Without a batch executor ({@link #installBatchCode}) the calls
     * are injected one by one, with the same results.
     *
     * @return the raw result of each call ({@code -errno} on failure)
     */
    public long[] injectBatch(long table, long[][] calls) throws CryoException {
        if (parkedAt != 0 && parkedBatchCode != 0 && calls.length >= 2) {
            return injectBatchParked(table, calls);
        }
        long[] results = new long[calls.length];
        if (batchCode == 0 || calls.length < 2 || parkedAt != 0) {
            for (int i = 0; i < calls.length; i++) {
                results[i] = inject(calls[i][0], java.util.Arrays.copyOfRange(calls[i], 1, calls[i].length));
            }
            return results;
        }
        StopRequest.check();
        if (savedRegs == null) {
            throw new IllegalStateException("injection not prepared for " + who());
        }
        flushPendingWrites();
        ByteBuffer t = batchTable(calls);
        writeFully(table, t, "batch of " + calls.length + " calls");
        long[] r = savedRegs.clone();
        r[Regs.RIP] = batchCode;
        r[Regs.RDI] = table;
        r[Regs.RSI] = calls.length;
        r[Regs.ORIG_RAX] = -1;
        writeRegs(r);
        regsDirty = true;
        injected += calls.length;
        ptrace(PTRACE_CONT, 0, 0, "PTRACE_CONT");
        int st = waitStop();
        if (stopSig(st) != SIGTRAP || event(st) != 0) {
            throw batchStop(calls.length, st);
        }
        return batchResults(table, t, calls.length);
    }

    /**
     * The batch executor of a parked task (see {@link HealingTrampoline}), x86-64 and position independent: for each
     * of RSI 64-byte entries at RDI, laid out as for {@link #BATCH_CODE}, {@code result = syscall(nr, a1..a6)}; then
     * {@code rax = getpid} and a jump to RDX, the {@code syscall} of the task's trampoline, whose restore path follows.
     * No trap anywhere: a task released mid-batch (cryo killed) runs the rest of the batch — queries only —, the final
     * {@code getpid}, then heals. Assembled from: {@code mov r12,rdi; mov r13,rsi; mov r14,rdx; 1: test r13,r13;
     * jz 2f; mov rax,[r12]; mov rdi,[r12+8]; mov rsi,[r12+16]; mov rdx,[r12+24]; mov r10,[r12+32]; mov r8,[r12+40];
     * mov r9,[r12+48]; syscall; mov [r12+56],rax; add r12,64; dec r13; jmp 1b; 2: mov eax,39; jmp r14}.
     */
    private static final byte[] PARKED_BATCH_CODE = concat(new byte[]{0x49, (byte) 0x89, (byte) 0xfc, 0x49,
        (byte) 0x89, (byte) 0xf5, 0x49, (byte) 0x89, (byte) 0xd6}, BATCH_LOOP,
        new byte[]{(byte) 0xb8, 0x27, 0x00, 0x00, 0x00, 0x41, (byte) 0xff, (byte) 0xe6});
    /** Bytes an executable area needs to hold the batch executor of parked tasks. */
    public static final int PARKED_BATCH_CODE_SIZE = 128;

    /** Where the batch executor of parked tasks is in the task; 0: none, a parked task's calls go one by one. */
    private long parkedBatchCode;

    /**
     * Writes the batch executor of parked tasks at {@code address} (in an executable and writable mapping of the
     * task, {@link #PARKED_BATCH_CODE_SIZE} bytes): from then on {@link #injectBatch} runs a parked task's batch in
     * one go. The other threads of the process use it with {@link #useParkedBatchCode}.
     */
    public void installParkedBatchCode(long address) throws CryoException {
        writeCode(address, PARKED_BATCH_CODE);
        parkedBatchCode = address;
    }

    /** Uses the batch executor of parked tasks already at {@code address} (written for another thread); 0: none. */
    public void useParkedBatchCode(long address) {
        parkedBatchCode = address;
    }

    /** Offset in {@link #PARKED_BATCH_CODE} of the instruction after its {@code syscall}. */
    private static final int AFTER_BATCH_SYSCALL = 0x32;
    /** The signal a parked batch ends on (see {@link #useBatchSignal}); 0: none, PTRACE_SYSCALL over every call. */
    private int batchSignal;
    private int batchTgid;
    private long batchMask;

    /**
     * Lets a parked batch end on one stop instead of two per call: the batch is run with PTRACE_CONT and ends with
     * {@code rt_sigprocmask(SIG_SETMASK, every signal but sig)} and {@code tgkill(tgid, tid, sig)}, whose delivery
     * is a signal-delivery stop (a traced task stops for every signal, an ignored one too); cryo then parks the task
     * again and the signal is discarded with the next resume. {@code sig} must be one the process ignores (no
     * handler: SIG_IGN, or SIG_DFL of a signal whose default is to ignore it) and none pending: were cryo killed
     * anywhere in between, the signal is dropped by the kernel as the process would have dropped it, and the task
     * heals on its trampoline. {@code maskAddress}: 8 bytes of the task's memory holding that mask; 0 sig: none.
     */
    public void useBatchSignal(int sig, int tgid, long maskAddress) {
        batchSignal = sig;
        batchTgid = tgid;
        batchMask = maskAddress;
    }

    /** @return the table of a batch: per call {@code {nr, a1..a6, result}} ({@link #BATCH_ENTRY_SIZE} bytes), 0-filled */
    private static ByteBuffer batchTable(long[][] calls) {
        ByteBuffer t = ByteBuffer.allocateDirect(calls.length * BATCH_ENTRY_SIZE).order(java.nio.ByteOrder.nativeOrder());
        for (int i = 0; i < calls.length; i++) {
            for (int j = 0; j < 7; j++) {
                t.putLong(i * BATCH_ENTRY_SIZE + j * 8, j < calls[i].length ? calls[i][j] : 0);
            }
        }
        return t;
    }

    /** Reads the batch's table {@code t} back from {@code table}; @return the results of its first {@code n} calls */
    private long[] batchResults(long table, ByteBuffer t, int n) throws CryoException {
        t.clear();
        readFully(table, t, "results of a batch of " + n + " calls");
        long[] results = new long[n];
        for (int i = 0; i < n; i++) {
            results[i] = t.getLong(i * BATCH_ENTRY_SIZE + 56);
        }
        return results;
    }

    /**
     * A batch run by a parked task: the table goes into the task, {@code rip} = the parked batch executor, and
     * PTRACE_SYSCALL passes over the entry and exit stop of each call without reading or writing a register, up to
     * the exit stop of the final {@code getpid} on the trampoline's {@code syscall}, where the task is parked again
     * (rip on the restore path). Job-control stops between calls are noted and passed over as in
     * {@link #injectParked}.
     */
    private long[] injectBatchParked(long table, long[][] calls) throws CryoException {
        StopRequest.check();
        flushPendingWrites();
        if (batchSignal != 0) {
            return injectBatchToSignal(table, calls);
        }
        int n = calls.length;
        ByteBuffer t = batchTable(calls);
        startParkedBatch(table, t, n, n);
        int want = 2 * (n + 1);
        int seen = 0;
        int deliver = 0;
        for (int stops = 0; stops < want + 16; stops++) {
            ptrace(PTRACE_SYSCALL, 0, deliver, "PTRACE_SYSCALL");
            deliver = 0;
            int s = waitStop();
            if (stopSig(s) == (SIGTRAP | 0x80) && event(s) == 0) {
                if (++seen < want) {
                    continue;
                }
                backOnTrampoline("batch of " + n + " injected calls");
                return batchResults(table, t, n);
            }
            deliver = passParkedStop(s, seen % 2 == 0, () -> batchStop(n, s));   // even: not inside a call
        }
        throw new CryoException(Category.INTERNAL, "core/INJECTION_STOP", "batch of " + n + " injected calls in "
                + who() + " did not complete through " + (want + 16) + " stops");
    }

    /**
     * A parked batch ended by the signal of {@link #useBatchSignal}: one PTRACE_CONT, one stop. At the stop the
     * task's registers and mask are set back to parked (registers first: each step leaves a task that heals).
     */
    private long[] injectBatchToSignal(long table, long[][] calls) throws CryoException {
        int n = calls.length;
        int m = n + 2;
        long[][] all = java.util.Arrays.copyOf(calls, m);
        all[n] = new long[]{RT_SIGPROCMASK, SIG_SETMASK, batchMask, 0, 8};
        all[n + 1] = new long[]{TGKILL, batchTgid, tid, batchSignal};
        ByteBuffer t = batchTable(all);
        startParkedBatch(table, t, m, n);
        int deliver = 0;
        for (int stops = 0; stops < 16; stops++) {
            ptrace(PTRACE_CONT, 0, deliver, "PTRACE_CONT");
            deliver = 0;
            int s = waitStop();
            if (event(s) == 0 && stopSig(s) == batchSignal) {
                long rip = readRegs()[Regs.RIP];
                long[] parked = savedRegs.clone();
                parked[Regs.RIP] = parkedAt + HealingTrampoline.R;
                parked[Regs.ORIG_RAX] = -1;
                writeRegs(parked);
                setSigmask(-1L);
                if (rip != parkedBatchCode + AFTER_BATCH_SYSCALL) {
                    throw new CryoException(Category.INTERNAL, "core/INJECTION_STOP", "batch of " + n
                            + " injected calls in " + who() + " stopped for signal " + batchSignal + " at rip 0x"
                            + Long.toHexString(rip) + ", not after its last call");
                }
                long[] results = batchResults(table, t, n);
                if (t.getLong(n * BATCH_ENTRY_SIZE + 56) != 0) {
                    throw new CryoException(Category.INTERNAL, "core/INJECTION_STOP", "batch of " + n
                            + " injected calls in " + who() + ": rt_sigprocmask failed: "
                            + Errors.describe((int) -t.getLong(n * BATCH_ENTRY_SIZE + 56)));
                }
                return results;
            }
            deliver = passParkedStop(s, true, () -> batchStop(n, s));
        }
        throw new CryoException(Category.INTERNAL, "core/INJECTION_STOP", "batch of " + n + " injected calls in "
                + who() + " did not complete through 16 stops");
    }

    /**
     * Writes the table {@code t} of a parked batch ({@code entries} calls, {@code n} of them the caller's) at
     * {@code table} and sets the task's registers to run it on the parked batch executor, which ends on the
     * {@code syscall} of the task's trampoline.
     */
    private void startParkedBatch(long table, ByteBuffer t, int entries, int n) throws CryoException {
        writeFully(table, t, "batch of " + n + " calls");
        long[] r = savedRegs.clone();
        r[Regs.RIP] = parkedBatchCode;
        r[Regs.RDI] = table;
        r[Regs.RSI] = entries;
        r[Regs.RDX] = parkedAt + HealingTrampoline.T;
        r[Regs.ORIG_RAX] = -1;
        writeRegs(r);
        injected += n;
    }

    /**
     * At the syscall-exit stop that ends injected calls of a parked task: checks that the task is back on its
     * trampoline's restore path, naming the calls {@code what} if not.
     *
     * @return the task's registers there
     */
    private long[] backOnTrampoline(String what) throws CryoException {
        long[] now = readRegs();
        if (now[Regs.RIP] != parkedAt + HealingTrampoline.R) {
            throw new CryoException(Category.INTERNAL, "core/INJECTION_STOP", what + " in " + who()
                    + " returned at rip 0x" + Long.toHexString(now[Regs.RIP]) + " instead of the trampoline's 0x"
                    + Long.toHexString(parkedAt + HealingTrampoline.R));
        }
        return now;
    }

    /**
     * A stop {@code s} of a parked task running injected calls that is not their end: {@code between} calls (not
     * inside one), a group-stop trap is noted and a SIGSTOP is passed on; any other stop throws {@code unexpected}.
     *
     * @return the signal to deliver with the next resume
     */
    private int passParkedStop(int s, boolean between, java.util.function.Supplier<CryoException> unexpected)
            throws CryoException {
        if (between && event(s) == PTRACE_EVENT_STOP) {
            noteTrap(s);
            return 0;
        }
        if (between && event(s) == 0 && stopSig(s) == SIGSTOP) {
            return SIGSTOP;   // queued before the seize: it stops the group as it would have
        }
        throw unexpected.get();
    }

    private CryoException batchStop(int n, int s) {
        return new CryoException(Category.INTERNAL, "core/INJECTION_STOP", "batch of " + n + " injected calls in "
                + who() + " ended in an unexpected stop: " + describeStatus(s));
    }

    /**
     * {@link #injectBatch} that throws for the first call that failed, naming it with {@code what[i]}, as
     * {@link #injectChecked} does.
     */
    public long[] injectBatchChecked(long table, String[] what, long[][] calls) throws CryoException {
        long[] results = injectBatch(table, calls);
        for (int i = 0; i < results.length; i++) {
            if (results[i] < 0 && results[i] > -4096) {
                throw new CryoException(Category.KERNEL, "core/SYSCALL_FAILED",
                        what[i] + " in " + who() + " failed: " + Errors.describe((int) -results[i]));
            }
        }
        return results;
    }

    /** Injects and throws when the result is {@code -errno}, naming {@code what}. */
    public long injectChecked(String what, long nr, long... a) throws CryoException {
        long r = inject(nr, a);
        if (r < 0 && r > -4096) {
            throw failed(what, r);
        }
        return r;
    }

    /** The failure {@link #injectChecked} throws for call {@code what} that returned {@code r} ({@code -errno}). */
    public CryoException failed(String what, long r) {
        return new CryoException(Category.KERNEL, "core/SYSCALL_FAILED",
                what + " in " + who() + " failed: " + Errors.describe((int) -r), null, (int) -r, null);
    }
}
