package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Mapping;
import dev.cryo.core.image.proto.CapsEntry;
import dev.cryo.core.image.proto.CoreEntry;
import dev.cryo.core.image.proto.CredsEntry;
import dev.cryo.core.image.proto.ItimerEntry;
import dev.cryo.core.image.proto.MmEntry;
import dev.cryo.core.image.proto.PstreeEntry;
import dev.cryo.core.image.proto.RlimitEntry;
import dev.cryo.core.image.proto.SigactionEntry;
import dev.cryo.core.image.proto.SpecialVmaEntry;
import dev.cryo.core.image.proto.ThreadCoreEntry;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.LiveTask;
import dev.cryo.core.linux.ProcFs;
import dev.cryo.core.linux.Regs;
import dev.cryo.core.linux.Rlimits;
import dev.cryo.core.linux.Sys;
import dev.cryo.core.linux.Tracee;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Rebuilds the core state of one process inside a copy of the stub, in the order the kernel requires: clear
 * the stub, place the kernel areas (memory is then restored by the plugins), mm fields, process state, and at the
 * very end the scratch area goes and the registers come back (interrupted system calls: {@link InterruptedCalls}).
 */
final class ProcessRebuilder {
    private static final String[] SPECIALS = {"[vvar]", "[vvar_vclock]", "[vdso]"};

    private final LiveTask task;
    private final Tracee tracee;
    /** Every thread of the process by tid, the leader first. */
    private final Map<Integer, Tracee> threads = new java.util.LinkedHashMap<>();
    private final ProcessCreator creator;
    private final CoreEntry core;
    private final PstreeEntry proc;
    private final int pid;
    private final long data;

    ProcessRebuilder(LiveTask task, ProcessCreator creator, CoreEntry core, PstreeEntry proc) {
        this.task = task;
        this.tracee = task.tracee();
        this.creator = creator;
        this.core = core;
        this.proc = proc;
        this.pid = proc.getPid();
        this.data = creator.dataArea();
        threads.put(pid, tracee);
    }

    /** Creates the other threads with their dumped tids (the memory must be in place). */
    void createThreads() throws CryoException {
        for (ThreadCoreEntry t : core.getThreadsList()) {
            if (t.getTid() == pid) {
                continue;
            }
            Tracee thread = creator.createThread(tracee, t.getTid(), core.getComm());
            thread.setSigmask(-1L);
            threads.put(t.getTid(), thread);
        }
    }

    /** @return every thread, the leader first */
    java.util.Collection<Tracee> threads() {
        return threads.values();
    }

    /**
     * Blocks every signal while cryo works, closes the stub's fds (not in a process sharing another's fd table: the
     * holder, rebuilt before it, closed them and restored its fds there), unmaps the stub, places the kernel areas.
     */
    void prepare() throws CryoException {
        prepare(List.of());
    }

    /**
     * As {@link #prepare()}, but the parts of what the process inherited that lie in {@code keep} (address order,
     * not overlapping) stay mapped: a child forked from its parent after the parent's memory was restored keeps the
     * private memory it shared copy-on-write with the parent at dump ({@link dev.cryo.api.MemoryHandler#inheritedRanges}).
     */
    void prepare(List<dev.cryo.api.MemoryHandler.Range> keep) throws CryoException {
        tracee.setSigmask(-1L);
        if (proc.getFdTableOf() == 0) {
            task.syscall("close_range(0, ~0)", Sys.CLOSE_RANGE, 0, 0xffffffffL, 0);
        }
        long scratch = creator.scratchCode();
        // every unmap in one batch (none takes a pointer): a child forked from its restored parent inherits all of
        // its mappings, tens of stops otherwise (issue 13)
        List<dev.cryo.api.RemoteTask.Call> unmaps = new java.util.ArrayList<>();
        List<String> whats = new java.util.ArrayList<>();
        for (Mapping m : ProcFs.mapsOnly(pid)) {
            if (m.kernelSpecial() || m.start() == scratch) {
                continue;
            }
            long at = m.start();
            for (dev.cryo.api.MemoryHandler.Range k : keep) {
                if (k.end() <= at || k.start() >= m.end()) {
                    continue;
                }
                if (k.start() > at) {
                    unmaps.add(new dev.cryo.api.RemoteTask.Call(dev.cryo.api.Syscall.MUNMAP, at, k.start() - at));
                    whats.add("munmap(inherited " + m + ")");
                }
                at = Math.min(k.end(), m.end());
            }
            if (at < m.end()) {
                unmaps.add(new dev.cryo.api.RemoteTask.Call(dev.cryo.api.Syscall.MUNMAP, at, m.end() - at));
                whats.add("munmap(" + (keep.isEmpty() ? "stub " : "inherited ") + m + ")");
            }
        }
        long[] r = task.syscallBatchRaw(unmaps);
        for (int i = 0; i < r.length; i++) {
            if (r[i] < 0 && r[i] > -4096) {
                throw tracee.failed(whats.get(i), r[i]);
            }
        }
        moveKernelAreas();
    }

    /**
     * Moves [vvar], [vvar_vclock], [vdso] to their dumped addresses (glibc caches pointers into the vdso); one the
     * process did not have at dump is unmapped.
     */
    private void moveKernelAreas() throws CryoException {
        List<Mapping> current = ProcFs.mapsOnly(pid);
        MmEntry mm = core.getMm();
        long park = creator.tempArea();
        long[][] moves = new long[SPECIALS.length][];
        for (int i = 0; i < SPECIALS.length; i++) {
            String name = SPECIALS[i];
            Mapping from = current.stream().filter(m -> m.name().equals(name)).findFirst().orElse(null);
            SpecialVmaEntry to = mm.getSpecialsList().stream().filter(v -> v.getName().equals(name)).findFirst()
                    .orElse(null);
            if (to == null && from == null) {
                continue;
            }
            if (to == null) {
                // the program had unmapped it (a process without [vdso]): so has the restored one; cryo injects
                // through its scratch area's syscall instruction meanwhile
                task.syscall("munmap(" + name + ", absent at dump)", Sys.MUNMAP, from.start(), from.length());
                continue;
            }
            if (from == null || from.length() != to.getEnd() - to.getStart()) {
                throw new CryoException(Category.CONFLICT, "core/KERNEL_AREAS", "cannot restore pid " + pid + ": "
                        + name + " is " + (from == null ? "absent" : from.length() + " bytes") + " here but "
                        + (to == null ? "was absent" : (to.getEnd() - to.getStart()) + " bytes") + " at dump",
                        "restore on the kernel the image was dumped on");
            }
            if (from.start() == to.getStart()) {
                continue;
            }
            task.syscall("mremap(" + name + " to a parking place)", Sys.MREMAP, from.start(), from.length(),
                    from.length(), Sys.MREMAP_MAYMOVE | Sys.MREMAP_FIXED, park);
            moves[i] = new long[]{park, from.length(), to.getStart()};
            park += from.length();
        }
        for (int i = 0; i < SPECIALS.length; i++) {
            if (moves[i] != null) {
                task.syscall("mremap(" + SPECIALS[i] + " to 0x" + Long.toHexString(moves[i][2]) + ")", Sys.MREMAP,
                        moves[i][0], moves[i][1], moves[i][1], Sys.MREMAP_MAYMOVE | Sys.MREMAP_FIXED, moves[i][2]);
            }
        }
    }

    /** brk, code/data/stack/arg/env bounds, auxv and exe with one prctl(PR_SET_MM, PR_SET_MM_MAP); comm. */
    void restoreMmFields() throws CryoException {
        MmEntry mm = core.getMm();
        if (!Files.exists(Path.of(mm.getExe()))) {
            throw new CryoException(Category.CONFLICT, "core/EXE_MISSING", "cannot restore pid " + pid + " (\""
                    + core.getComm() + "\"): its executable " + mm.getExe() + " no longer exists",
                    "put the program back at " + mm.getExe());
        }
        long exePath = task.putScratchString(4096, mm.getExe());
        long exeFd = task.syscall("openat(" + mm.getExe() + ")", Sys.OPENAT, Sys.AT_FDCWD, exePath,
                Sys.O_RDONLY | Sys.O_CLOEXEC, 0);
        byte[] auxv = mm.getAuxv().toByteArray();
        ByteBuffer b = ByteBuffer.allocateDirect(128 + auxv.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, mm.getStartCode()).putLong(8, mm.getEndCode()).putLong(16, mm.getStartData())
                .putLong(24, mm.getEndData()).putLong(32, mm.getStartBrk()).putLong(40, mm.getBrk())
                .putLong(48, mm.getStartStack()).putLong(56, mm.getArgStart()).putLong(64, mm.getArgEnd())
                .putLong(72, mm.getEnvStart()).putLong(80, mm.getEnvEnd()).putLong(88, data + 128)
                .putInt(96, auxv.length).putInt(100, (int) exeFd);
        b.put(128, auxv);
        task.writeMemory(data, b);
        try {
            task.syscall("prctl(PR_SET_MM, PR_SET_MM_MAP)", Sys.PRCTL, Sys.PR_SET_MM, Sys.PR_SET_MM_MAP, data, 104,
                    0);
        } finally {
            task.syscallRaw(Sys.CLOSE, exeFd);
        }
        long comm = task.putScratchString(0, core.getComm());
        task.syscall("prctl(PR_SET_NAME)", Sys.PRCTL, Sys.PR_SET_NAME, comm, 0, 0, 0);
    }

    /**
     * File locks (the fds exist now), cwd, root, umask, rlimits, signal handlers, session, itimers, pending signals,
     * rseq, credentials.
     */
    void restoreProcessState() throws CryoException {
        String who = task.who();
        FileLockRestore.retake(task, core, data);
        task.syscall("chdir(" + core.getCwd() + ")", Sys.CHDIR, task.putScratchString(0, core.getCwd()));
        if (!core.getRoot().equals("/") && !core.getRoot().isEmpty()) {
            task.syscall("chroot(" + core.getRoot() + ")", Sys.CHROOT, task.putScratchString(0, core.getRoot()));
        }
        task.syscall("umask", Sys.UMASK, core.getUmask());
        for (RlimitEntry r : core.getRlimitsList()) {
            Rlimits.write(pid, r, who);
        }
        ByteBuffer b = ByteBuffer.allocateDirect(128).order(ByteOrder.LITTLE_ENDIAN);
        // every signal the image does not list was at SIG_DFL: set it so, whatever cryo's stub inherited (a
        // `nohup cryo restore` would otherwise leave SIGHUP ignored in the restored program)
        SigactionEntry[] actions = new SigactionEntry[65];
        for (SigactionEntry s : core.getSigactionsList()) {
            actions[s.getSigno()] = s;
        }
        // the 62 rt_sigaction calls in one batch (one stop): each reads its action from its own 32-byte slot
        ByteBuffer all = ByteBuffer.allocateDirect(65 * 32).order(ByteOrder.LITTLE_ENDIAN);
        String[] what = new String[62];
        long[][] calls = new long[62][];
        for (int sig = 1, i = 0; sig <= 64; sig++) {
            if (sig == Sys.SIGKILL || sig == Sys.SIGSTOP) {
                continue;
            }
            SigactionEntry s = actions[sig] != null ? actions[sig] : SigactionEntry.newBuilder().setSigno(sig).build();
            all.position(sig * 32);
            all.putLong(s.getHandler()).putLong(s.getFlags()).putLong(s.getRestorer()).putLong(s.getMask());
            what[i] = "rt_sigaction(" + sig + ")";
            calls[i++] = new long[]{Sys.RT_SIGACTION, sig, data + sig * 32L, 0, 8};
        }
        task.writeMemory(data, all.clear());
        task.tracee().injectBatchChecked(data + 66 * 32, what, calls);
        for (ItimerEntry t : core.getItimersList()) {
            long valueSec = t.getValueSec();
            long valueUsec = t.getValueUsec();
            if (valueSec == 0 && valueUsec == 0) {
                // a periodic timer whose signal is still pending reads as disarmed until the signal is
                // dequeued (the kernel re-arms it then); arm it for one interval instead of disarming it
                valueSec = t.getIntervalSec();
                valueUsec = t.getIntervalUsec();
            }
            b.clear();
            b.putLong(t.getIntervalSec()).putLong(t.getIntervalUsec()).putLong(valueSec).putLong(valueUsec).flip();
            task.writeMemory(data, b);
            task.syscall("setitimer(" + t.getWhich() + ")", Sys.SETITIMER, t.getWhich(), data, 0);
        }
        PosixTimerRestore.restore(task, core, data);
        for (ThreadCoreEntry thread : core.getThreadsList()) {
            for (var si : thread.getPendingList()) {
                if (PosixTimerRestore.queuedByTimer(si, core)) {
                    continue;
                }
                int signo = si.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getInt(0);
                task.writeMemory(data, ByteBuffer.allocateDirect(si.size()).put(si.asReadOnlyByteBuffer()).flip());
                task.syscall("rt_tgsigqueueinfo(" + signo + ", tid " + thread.getTid() + ")", Sys.RT_TGSIGQUEUEINFO,
                        pid, thread.getTid(), signo, data);
            }
        }
        for (var si : core.getSharedPendingList()) {
            if (PosixTimerRestore.queuedByTimer(si, core)) {
                continue;
            }
            int signo = si.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getInt(0);
            task.writeMemory(data, ByteBuffer.allocateDirect(si.size()).put(si.asReadOnlyByteBuffer()).flip());
            task.syscall("rt_sigqueueinfo(" + signo + ")", Sys.RT_SIGQUEUEINFO, pid, signo, data);
        }
        for (ThreadCoreEntry thread : core.getThreadsList()) {
            restoreThreadState(thread, threads.get(thread.getTid()));
        }
        restoreAttributesAndCreds();
    }

    /** State only the thread itself can set: clear_child_tid, robust list, rseq, name. */
    private void restoreThreadState(ThreadCoreEntry t, Tracee thread) throws CryoException {
        thread.injectChecked("set_tid_address", Sys.SET_TID_ADDRESS, t.getClearChildTid());
        if (t.getRobustList() != 0) {
            thread.injectChecked("set_robust_list", Sys.SET_ROBUST_LIST, t.getRobustList(), t.getRobustListLen());
        }
        if (t.hasRseq() && t.getRseq().getPtr() != 0) {
            thread.injectChecked("rseq(register)", Sys.RSEQ, t.getRseq().getPtr(), t.getRseq().getSize(), 0,
                    t.getRseq().getSignature() & 0xffffffffL);
        }
        if (!t.getComm().isEmpty()) {
            long name = task.putScratchString(0, t.getComm());
            thread.injectChecked("prctl(PR_SET_NAME)", Sys.PRCTL, Sys.PR_SET_NAME, name, 0, 0, 0);
        }
        if (t.getAltstackSize() != 0 && (t.getAltstackFlags() & 2 /* SS_DISABLE */) == 0) {
            ByteBuffer ss = ByteBuffer.allocateDirect(24).order(ByteOrder.LITTLE_ENDIAN);
            ss.putLong(0, t.getAltstackSp()).putInt(8, t.getAltstackFlags()).putLong(16, t.getAltstackSize());
            task.writeMemory(data, ss);
            thread.injectChecked("sigaltstack", Sys.SIGALTSTACK, data, 0);
        }
    }

    /**
     * Attributes and credentials, in the order the kernel needs: process-wide attributes, per-thread attributes
     * that a credential change leaves alone (and no_new_privs), seccomp (while the threads may still install a
     * filter without no_new_privs), credentials and capabilities, then the parent-death
     * signal (a credential change clears it), the dumpable flag (likewise), and scheduling, set from cryo.
     */
    private void restoreAttributesAndCreds() throws CryoException {
        if (core.hasAttrs()) {
            TaskAttributesRestore.process(task, core.getAttrs());
        }
        for (ThreadCoreEntry t : core.getThreadsList()) {
            if (t.hasAttrs()) {
                TaskAttributesRestore.threadBeforeCreds(threads.get(t.getTid()), t.getAttrs());
            }
        }
        SeccompRestore.restore(task, threads, core.getThreadsList(), creator.tempArea(), creator.seccompSuspended());
        for (ThreadCoreEntry t : core.getThreadsList()) {
            CredsEntry creds = t.hasAttrs() && t.getAttrs().hasCreds() ? t.getAttrs().getCreds() : core.getCreds();
            CapsEntry caps = t.hasAttrs() && t.getAttrs().hasCaps() ? t.getAttrs().getCaps() : null;
            CredentialsRestore.thread(task, threads.get(t.getTid()), creds, caps, data);
        }
        for (ThreadCoreEntry t : core.getThreadsList()) {
            if (t.hasAttrs()) {
                TaskAttributesRestore.threadAfterCreds(threads.get(t.getTid()), t.getAttrs());
            }
        }
        if (core.getDumpable() > 0) {
            // a change of the euid resets the dumpable flag (ptrace/gdb/core dumps by the owner): put it back
            task.syscall("prctl(PR_SET_DUMPABLE)", Sys.PRCTL, Sys.PR_SET_DUMPABLE, core.getDumpable() - 1, 0, 0, 0);
        }
        for (ThreadCoreEntry t : core.getThreadsList()) {
            if (t.hasAttrs() && t.getAttrs().hasSched()) {
                TaskAttributesRestore.sched(t.getTid(), t.getAttrs().getSched(), task.who());
            }
        }
    }

    /** Drops the scratch area (through the syscall instruction of the moved vdso), then FPU, mask, registers. */
    void finish() throws CryoException {
        // while the scratch area and the threads' injection sites still exist
        InterruptedCalls calls = InterruptedCalls.rebuild(task, threads, core.getThreadsList(), data);
        SpecialVmaEntry vdso = core.getMm().getSpecialsList().stream().filter(v -> v.getName().equals("[vdso]"))
                .findFirst().orElse(null);
        // without a vdso (unmapped by the program) the scratch area unmaps itself: the single-step trap comes at the
        // syscall's exit, before any instruction is fetched from the unmapped page
        tracee.setSyscallInsn(vdso != null ? vdso.getStart() + creator.vdsoSyscallOffset() : creator.scratchCode());
        task.syscall("munmap(scratch)", Sys.MUNMAP, creator.scratchCode(), ProcessCreator.SCRATCH_SIZE);

        for (ThreadCoreEntry thread : core.getThreadsList()) {
            Tracee t = threads.get(thread.getTid());
            t.setXstate(thread.getXsave().toByteArray());
            long[] r = new long[Regs.COUNT];
            for (int i = 0; i < Regs.COUNT; i++) {
                r[i] = thread.getGpregs(i);
            }
            calls.apply(thread.getTid(), r);
            t.setRegs(r);
            t.setSigmask(thread.getSigmask());
        }
        if (core.getStopSigno() != 0) {
            // stopped by job control at dump: queued now, the SIGSTOP stops the group as soon as cryo lets go, before
            // any of its instructions runs (the stop is a SIGSTOP stop whatever signal stopped it at dump)
            LibC.INSTANCE.kill(pid, Sys.SIGSTOP);
        }
    }
}
