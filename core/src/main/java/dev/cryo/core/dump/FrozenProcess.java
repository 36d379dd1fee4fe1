package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.Mapping;
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

/**
 * One process of a frozen tree: every thread seized and stopped, every signal blocked while cryo works, and what
 * must be undone to let it go exactly as it was (cryo's scratch mapping, registers, signal masks).
 */
final class FrozenProcess {
    private static final Logger LOG = LoggerFactory.getLogger(FrozenProcess.class);
    static final int SCRATCH_SIZE = 2 * 4096;

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
    LiveTask task;
    /** Locks the process holds, filled by {@link FileLockDump} (only with --file-locks). */
    final List<dev.cryo.core.image.proto.FileLockEntry> fileLocks = new ArrayList<>();

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

    /** Records the thread's state at the stop and blocks its signals (a timer firing now stays pending). */
    void addStopped(Tracee t) throws CryoException {
        long[] regs = t.getRegs();
        long mask = t.getSigmask();
        threads.add(new FrozenThread(t, regs, mask));
        t.setSavedRegs(regs);
        t.setSigmask(-1L);
    }

    /**
     * Prepares injection: reads the layout, finds a syscall instruction (in the vdso, else in another executable mapping), maps cryo's scratch area.
     * The layout is read before the scratch area exists, so the scratch area is never dumped.
     */
    void prepareInjection() throws CryoException {
        if (isZombie()) {
            return;
        }
        stat = ProcFs.stat(pid);
        maps = ProcFs.maps(pid);
        long insn = SyscallSite.find(leader().tracee, maps);
        for (FrozenThread t : threads) {
            t.tracee.setSyscallInsn(insn);
        }
        scratch = leader().tracee.injectChecked("mmap(scratch)", Sys.MMAP, 0, SCRATCH_SIZE,
                Sys.PROT_READ | Sys.PROT_WRITE | Sys.PROT_EXEC, Sys.MAP_PRIVATE | Sys.MAP_ANONYMOUS, -1, 0);
        // the last bytes hold the batch executor (many injected calls in one stop), the rest is scratch data
        leader().tracee.installBatchCode(scratch + SCRATCH_SIZE - Tracee.BATCH_CODE_SIZE);
        task = new LiveTask(leader().tracee, pid, comm);
        task.setScratch(scratch, SCRATCH_SIZE - Tracee.BATCH_CODE_SIZE);
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
        if (scratch > 0) {
            try {
                leader().tracee.injectAlways(Sys.MUNMAP, scratch, SCRATCH_SIZE);
            } catch (CryoException | RuntimeException e) {
                LOG.warn("could not remove cryo's scratch mapping from {}: {}", who(), e.getMessage());
            }
            scratch = 0;
        }
        for (FrozenThread t : threads) {
            try {
                t.tracee.setRegs(t.regs);
                t.tracee.setSigmask(t.sigmask);
            } catch (CryoException e) {
                LOG.warn("could not restore the registers of thread {} of {}: {}", t.tracee.tid(), who(),
                        e.getMessage());
            }
        }
        if (stop && !threads.isEmpty()) {
            LibC.INSTANCE.kill(pid, Sys.SIGSTOP);
        }
        for (FrozenThread t : threads) {
            t.tracee.detachQuietly();
        }
        threads.clear();
    }
}
