package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Mapping;
import dev.cryo.core.image.proto.CoreEntry;
import dev.cryo.core.image.proto.CredsEntry;
import dev.cryo.core.image.proto.ItimerEntry;
import dev.cryo.core.image.proto.MmEntry;
import dev.cryo.core.image.proto.PstreeEntry;
import dev.cryo.core.image.proto.RlimitEntry;
import dev.cryo.core.image.proto.SigactionEntry;
import dev.cryo.core.image.proto.SpecialVmaEntry;
import dev.cryo.core.image.proto.ThreadCoreEntry;
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
 * very end the scratch area goes and the registers come back.
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

    /** Blocks every signal while cryo works, closes the stub's fds, unmaps the stub, places the kernel areas. */
    void prepare() throws CryoException {
        tracee.setSigmask(-1L);
        task.syscall("close_range(0, ~0)", Sys.CLOSE_RANGE, 0, 0xffffffffL, 0);
        long scratch = creator.scratchCode();
        for (Mapping m : ProcFs.mapsOnly(pid)) {
            if (m.kernelSpecial() || m.start() == scratch) {
                continue;
            }
            task.syscall("munmap(stub " + m + ")", Sys.MUNMAP, m.start(), m.length());
        }
        moveKernelAreas();
    }

    /** Moves [vvar], [vvar_vclock], [vdso] to their dumped addresses (glibc caches pointers into the vdso). */
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
            if (to == null || from == null || from.length() != to.getEnd() - to.getStart()) {
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

    /** cwd, root, umask, rlimits, signal handlers, session, itimers, pending signals, rseq, credentials. */
    void restoreProcessState() throws CryoException {
        String who = task.who();
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
        for (ThreadCoreEntry thread : core.getThreadsList()) {
            for (var si : thread.getPendingList()) {
                int signo = si.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getInt(0);
                task.writeMemory(data, ByteBuffer.allocateDirect(si.size()).put(si.asReadOnlyByteBuffer()).flip());
                task.syscall("rt_tgsigqueueinfo(" + signo + ", tid " + thread.getTid() + ")", Sys.RT_TGSIGQUEUEINFO,
                        pid, thread.getTid(), signo, data);
            }
        }
        for (var si : core.getSharedPendingList()) {
            int signo = si.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getInt(0);
            task.writeMemory(data, ByteBuffer.allocateDirect(si.size()).put(si.asReadOnlyByteBuffer()).flip());
            task.syscall("rt_sigqueueinfo(" + signo + ")", Sys.RT_SIGQUEUEINFO, pid, signo, data);
        }
        for (ThreadCoreEntry thread : core.getThreadsList()) {
            restoreThreadState(thread, threads.get(thread.getTid()));
        }
        restoreCreds(core.getCreds());
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

    private void restoreCreds(CredsEntry c) throws CryoException {
        Map<String, String> self = ProcFs.status((int) ProcessHandle.current().pid());
        String uids = c.getUid() + "\t" + c.getEuid() + "\t" + c.getSuid() + "\t" + c.getFsuid();
        String gids = c.getGid() + "\t" + c.getEgid() + "\t" + c.getSgid() + "\t" + c.getFsgid();
        StringBuilder groups = new StringBuilder();
        for (int g : c.getGroupsList()) {
            groups.append(groups.length() == 0 ? "" : " ").append(g);
        }
        boolean sameIds = self.get("Uid").replaceAll("\\s+", "\t").equals(uids)
                && self.get("Gid").replaceAll("\\s+", "\t").equals(gids);
        boolean sameGroups = self.getOrDefault("Groups", "").trim().equals(groups.toString());
        if (sameIds && sameGroups) {
            return;
        }
        ByteBuffer b = ByteBuffer.allocateDirect(Math.max(4, c.getGroupsCount() * 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (int g : c.getGroupsList()) {
            b.putInt(g);
        }
        b.flip();
        if (b.hasRemaining()) {
            task.writeMemory(data, b);
        }
        // credentials are per thread (glibc broadcasts them with SIGSETXID; an injected syscall does not)
        for (Map.Entry<Integer, Tracee> t : threads.entrySet()) {
            t.getValue().injectChecked("setgroups", Sys.SETGROUPS, c.getGroupsCount(), data);
            t.getValue().injectChecked("setresgid", Sys.SETRESGID, c.getGid(), c.getEgid(), c.getSgid());
            t.getValue().injectChecked("setresuid", Sys.SETRESUID, c.getUid(), c.getEuid(), c.getSuid());
        }
        if (core.getDumpable() > 0) {
            // changing the euid reset the dumpable flag (ptrace/gdb/core dumps by the owner): put it back
            task.syscall("prctl(PR_SET_DUMPABLE)", Sys.PRCTL, Sys.PR_SET_DUMPABLE, core.getDumpable() - 1, 0, 0, 0);
        }
    }

    /** Drops the scratch area (through the syscall instruction of the moved vdso), then FPU, mask, registers. */
    void finish() throws CryoException {
        SpecialVmaEntry vdso = core.getMm().getSpecialsList().stream().filter(v -> v.getName().equals("[vdso]"))
                .findFirst().orElseThrow(() -> new CryoException(Category.IMAGE, "core/NO_VDSO",
                        "the image of pid " + pid + " records no [vdso]"));
        tracee.setSyscallInsn(vdso.getStart() + creator.vdsoSyscallOffset());
        task.syscall("munmap(scratch)", Sys.MUNMAP, creator.scratchCode(), ProcessCreator.SCRATCH_SIZE);

        for (ThreadCoreEntry thread : core.getThreadsList()) {
            Tracee t = threads.get(thread.getTid());
            t.setXstate(thread.getXsave().toByteArray());
            long[] r = new long[Regs.COUNT];
            for (int i = 0; i < Regs.COUNT; i++) {
                r[i] = thread.getGpregs(i);
            }
            applySyscallRestart(r);
            t.setRegs(r);
            t.setSigmask(thread.getSigmask());
        }
    }

    /**
     * A task stopped inside an interrupted syscall shows {@code rax = -ERESTART*}: re-execute the call
     * ({@code rip -= 2}, {@code rax = orig_rax}), except for -ERESTART_RESTARTBLOCK whose kernel-side restart
     * block does not survive: the call returns -EINTR (CRIU does the same).
     */
    static void applySyscallRestart(long[] r) {
        long rax = r[Regs.RAX];
        long orig = r[Regs.ORIG_RAX];
        if (orig >= 0) {
            if (rax == -Sys.ERESTARTSYS || rax == -Sys.ERESTARTNOINTR || rax == -Sys.ERESTARTNOHAND) {
                r[Regs.RIP] -= 2;
                r[Regs.RAX] = orig;
            } else if (rax == -Sys.ERESTART_RESTARTBLOCK) {
                r[Regs.RAX] = -4; // -EINTR
            }
        }
        r[Regs.ORIG_RAX] = -1;
    }
}
