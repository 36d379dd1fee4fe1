package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.Mapping;
import dev.cryo.core.linux.HealingTrampoline;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.LiveTask;
import dev.cryo.core.linux.ProcFs;
import dev.cryo.core.linux.Sys;
import dev.cryo.core.linux.SyscallSite;
import dev.cryo.core.linux.Tracee;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One process of a frozen tree: every thread seized and stopped, parked on a {@link HealingTrampoline} (every signal
 * blocked) while cryo injects calls, and what must be undone to let it go exactly as it was (cryo's scratch mapping,
 * registers, signal masks). Should cryo die at any point, every thread gets its own context back by itself.
 */
final class FrozenProcess {
    private static final Logger LOG = LoggerFactory.getLogger(FrozenProcess.class);
    static final int SCRATCH_SIZE = 2 * 4096;
    /** Offset of the first trampoline after {@link #SCRATCH_SIZE}: the parked batch executor comes first. */
    private static final int TRAMPOLINES = Tracee.PARKED_BATCH_CODE_SIZE;

    /** One stopped thread and its state at the stop. */
    static final class FrozenThread {
        final Tracee tracee;
        final long[] regs;
        final long sigmask;

        FrozenThread(Tracee tracee, long[] regs, long sigmask) {
            this.tracee = tracee;
            this.regs = regs;
            this.sigmask = sigmask;
        }
    }

    final int pid;
    final String comm;
    final List<FrozenThread> threads = new ArrayList<>();
    ProcFs.Stat stat;
    List<Mapping> maps;
    long scratch;
    /**
     * Bytes of the scratch mapping: {@link #SCRATCH_SIZE} of data, the batch executor of parked tasks, then one
     * trampoline per thread.
     */
    long scratchSize;
    /** Where the leader parks in the vdso's padding while the scratch mapping does not exist; 0: no room. */
    private long vdsoSlot;
    /** Whether the vdso's padding holds a trampoline. */
    private boolean vdsoDirty;
    LiveTask task;
    /** Locks the process holds, filled by {@link FileLockDump} (only with --file-locks). */
    final List<dev.cryo.core.image.proto.FileLockEntry> fileLocks = new ArrayList<>();

    /**
     * The process whose fd table this one shares ({@code CLONE_FILES}, set by {@link CloneSharing}): its fds are
     * dumped there, once; 0: its own table.
     */
    int fdTableOf;

    /** Whether this is the root of the dumped tree (its parent is outside). */
    boolean root;

    /** A zombie's wait status; -1 for a live process. */
    int zombieStatus = -1;

    FrozenProcess(int pid, String comm) {
        this.pid = pid;
        this.comm = comm;
    }

    /** Marks this process as a zombie with the wait status of field 52 of its stat. */
    void zombie(ProcFs.Stat st) {
        this.stat = st;
        this.zombieStatus = (int) st.field(52);
    }

    boolean isZombie() {
        return zombieStatus >= 0;
    }

    String who() {
        return "pid " + pid + " \"" + comm + "\"";
    }

    FrozenThread leader() {
        return threads.get(0);
    }

    /**
     * Records the thread's state at the stop. Its signal mask is left as it is until the thread is parked (see
     * {@link #prepareInjection}): cryo never leaves a thread with signals blocked that would not give them back by
     * itself.
     */
    void addStopped(Tracee t) throws CryoException {
        long[] regs = t.getRegs();
        long mask = t.getSigmask();
        threads.add(new FrozenThread(t, regs, mask));
        t.setSavedRegs(regs);
        t.setSavedMask(mask);
    }

    /**
     * Prepares injection so that the process survives cryo's death at any instant (see {@link HealingTrampoline}):
     * reads the layout, finds a syscall instruction (in the vdso, else in another executable mapping), parks the
     * leader on a trampoline in its vdso's padding, maps cryo's scratch area through it, parks every thread on its
     * own trampoline in the scratch area (the leader moves there before the vdso copy is wiped). Without a vdso the
     * first and last calls go through the syscall instruction found, unprotected (logged). The layout is read before
     * the scratch area exists, so the scratch area is never dumped.
     */
    void prepareInjection() throws CryoException {
        if (isZombie()) {
            return;
        }
        stat = ProcFs.stat(pid);
        maps = ProcFs.maps(pid);
        Tracee leader = leader().tracee;
        Optional<Mapping> vdso = Optional.empty();
        for (Mapping m : maps) { // a loop, no stream of lambdas: the tree is frozen (issue 13)
            if (m.name().equals("[vdso]")) {
                vdso = Optional.of(m);
                break;
            }
        }
        SyscallSite.VdsoLayout layout = vdso.isPresent() ? SyscallSite.vdso(leader, vdso.get()) : null;
        long insn = layout != null ? vdso.get().start() + layout.syscallOffset() : SyscallSite.find(leader, maps);
        for (FrozenThread t : threads) {
            t.tracee.setSyscallInsn(insn);
        }
        vdsoSlot = layout == null || layout.slotOffset() == 0 ? 0 : vdso.get().start() + layout.slotOffset();
        long size = SCRATCH_SIZE + ((long) TRAMPOLINES + threads.size() * HealingTrampoline.SIZE + 4095 & ~4095L);
        long[] mmap = {0, size, Sys.PROT_READ | Sys.PROT_WRITE | Sys.PROT_EXEC, Sys.MAP_PRIVATE | Sys.MAP_ANONYMOUS,
                -1, 0};
        if (vdsoSlot != 0) {
            leader.park(vdsoSlot);
            vdsoDirty = true;
            scratch = leader.injectChecked("mmap(scratch)", Sys.MMAP, mmap);
        } else {
            if (vdso.isPresent()) {
                LOG.warn("the [vdso] of {} has no room for cryo's healing trampoline: were cryo killed during its"
                        + " first or last injected call, the process could die", who());
            } else {
                LOG.info("{} has no [vdso] for cryo's healing trampoline: were cryo killed during its first or last"
                        + " injected call, the process could die", who());
            }
            leader.setSigmask(-1L);
            try {
                scratch = leader.injectChecked("mmap(scratch)", Sys.MMAP, mmap);
            } finally {
                leader.unpark();
            }
        }
        scratchSize = size;
        for (int i = 0; i < threads.size(); i++) {
            threads.get(i).tracee.park(scratch + SCRATCH_SIZE + TRAMPOLINES + (long) i * HealingTrampoline.SIZE);
        }
        leader.installParkedBatchCode(scratch + SCRATCH_SIZE);
        int sig = batchSignal();
        LOG.debug("{}: injected batches end on {}", who(), sig == 0 ? "no signal (every signal caught or pending):"
                + " one stop per call" : "signal " + sig);
        long maskAt = scratch + SCRATCH_SIZE + Tracee.PARKED_BATCH_CODE_SIZE - 8;
        if (sig != 0) {
            java.nio.ByteBuffer mask = java.nio.ByteBuffer.allocateDirect(8).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                    .putLong(0, ~(1L << (sig - 1)));
            leader.writeFully(maskAt, mask, "batch signal mask");
        }
        for (FrozenThread t : threads) {
            t.tracee.useParkedBatchCode(scratch + SCRATCH_SIZE);
            t.tracee.useBatchSignal(sig, pid, maskAt);
        }
        wipeVdsoSlot();
        task = new LiveTask(leader, pid, comm);
        task.setScratch(scratch, SCRATCH_SIZE);
    }

    /**
     * @return a signal a parked batch may end on ({@link Tracee#useBatchSignal}): one without a handler whose default
     * is to ignore it (SIGURG, SIGWINCH, SIGCHLD), or one set to SIG_IGN, pending in no queue of the process and
     * blocked by none of its threads (were cryo killed at the stop, the kernel drops it at once); 0 when
     * there is none (the batch then stops on each of its calls)
     */
    private int batchSignal() throws CryoException {
        java.util.Map<String, String> st = ProcFs.status(pid);
        long pending = ProcFs.hexField(st, "ShdPnd");
        long blocked = 0;
        for (FrozenThread t : threads) {
            pending |= ProcFs.hexField(t.tracee.tid() == pid ? st : ProcFs.taskStatus(pid, t.tracee.tid()), "SigPnd");
            blocked |= t.sigmask;
        }
        return batchSignal(ProcFs.hexField(st, "SigCgt"), ProcFs.hexField(st, "SigIgn"), pending, blocked);
    }

    /**
     * @param caught  the signals the process has a handler for (SigCgt), {@code ignored} those set to SIG_IGN
     *                (SigIgn), {@code pending} those pending in any queue of it, {@code blocked} those any thread
     *                blocks (bit {@code sig - 1} each)
     * @return SIGURG, SIGWINCH or SIGCHLD when one is usable (left to its default, which ignores it), else the
     * lowest usable SIG_IGN signal (never SIGKILL, SIGSTOP, SIGCONT), 0 when none is
     */
    static int batchSignal(long caught, long ignored, long pending, long blocked) {
        long defaultIgnored = 1L << (Sys.SIGURG - 1) | 1L << (Sys.SIGWINCH - 1) | 1L << (Sys.SIGCHLD - 1);
        long usable = (defaultIgnored & ~caught | ignored) & ~pending & ~blocked & ~(1L << (Sys.SIGKILL - 1))
                & ~(1L << (Sys.SIGSTOP - 1)) & ~(1L << (Sys.SIGCONT - 1));
        for (int sig : new int[]{Sys.SIGURG, Sys.SIGWINCH, Sys.SIGCHLD}) {
            if ((usable & 1L << (sig - 1)) != 0) {
                return sig;
            }
        }
        return usable == 0 ? 0 : Long.numberOfTrailingZeros(usable) + 1;
    }

    /** Removes the trampoline from the vdso's padding; no thread may be parked there. Never throws. */
    private void wipeVdsoSlot() {
        if (vdsoDirty) {
            try {
                leader().tracee.forceWrite(vdsoSlot, new byte[HealingTrampoline.SIZE], "zeros over the trampoline");
                vdsoDirty = false;
            } catch (CryoException e) {
                LOG.warn("could not wipe cryo's trampoline from the [vdso] padding of {}: {}", who(), e.getMessage());
            }
        }
    }

    /**
     * @return the signal of the group stop (job control) the process was found in, 0 when it was running. A SIGSTOP
     * still queued when cryo seized the process stops it during the freeze, as it would have without cryo.
     */
    int stopSig() {
        for (FrozenThread t : threads) {
            if (t.tracee.groupStopSig() != 0) {
                return t.tracee.groupStopSig();
            }
        }
        return 0;
    }

    /**
     * Undoes cryo's traces and detaches every thread; the process runs on as before, or stays stopped when it was
     * stopped (the kernel puts a detached task of a stopped group back into the group stop). Never throws.
     */
    void release() {
        release(false);
    }

    /**
     * Like {@link #release()}, and with {@code stop} the process is left stopped (dump --leave-stopped): once
     * cryo's traces are gone a SIGSTOP is queued while every thread is still held, so the first thing each
     * thread does after the detach is to stop; it runs no instruction of its own before a SIGCONT.
     */
    void release(boolean stop) {
        if (task != null) {
            task.close(); // cryo's own fds on the process (pidfd, pagemap)
        }
        // every thread but the leader first: from here they run on their own registers, not the scratch mapping
        for (int i = threads.size() - 1; i > 0; i--) {
            unpark(threads.get(i));
        }
        if (!threads.isEmpty()) {
            Tracee leader = leader().tracee;
            if (scratch > 0) {
                try {
                    // the last call must not run from the mapping it removes: back to the vdso's padding
                    if (vdsoSlot != 0) {
                        leader.park(vdsoSlot);
                        vdsoDirty = true;
                    } else {
                        leader.unpark();
                        leader.setSigmask(-1L);
                    }
                    long r = leader.injectAlways(Sys.MUNMAP, scratch, scratchSize);
                    if (r < 0) {
                        LOG.warn("could not remove cryo's scratch mapping from {}: munmap failed: {}", who(),
                                dev.cryo.core.linux.Errors.describe((int) -r));
                    }
                } catch (CryoException | RuntimeException e) {
                    LOG.warn("could not remove cryo's scratch mapping from {}: {}", who(), e.getMessage());
                }
                scratch = 0;
            }
            unpark(leader());
            wipeVdsoSlot();
        }
        if (stop && !threads.isEmpty()) {
            LibC.INSTANCE.kill(pid, Sys.SIGSTOP);
        }
        for (FrozenThread t : threads) {
            t.tracee.detachQuietly();
        }
        threads.clear();
    }

    /** Gives a thread its own mask and registers back. Never throws. */
    private void unpark(FrozenThread t) {
        try {
            t.tracee.unpark();
        } catch (CryoException e) {
            LOG.warn("could not restore the registers of thread {} of {}: {}", t.tracee.tid(), who(),
                    e.getMessage());
        }
    }
}
