package dev.cryo.core.dump;

import com.google.protobuf.ByteString;
import dev.cryo.api.CryoException;
import dev.cryo.api.Mapping;
import dev.cryo.core.image.proto.CoreEntry;
import dev.cryo.core.image.proto.ItimerEntry;
import dev.cryo.core.image.proto.MmEntry;
import dev.cryo.core.image.proto.PosixTimerEntry;
import dev.cryo.core.image.proto.RlimitEntry;
import dev.cryo.core.image.proto.RseqEntry;
import dev.cryo.core.image.proto.SigactionEntry;
import dev.cryo.core.image.proto.SpecialVmaEntry;
import dev.cryo.core.image.proto.ThreadCoreEntry;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.LiveTask;
import dev.cryo.core.linux.PosixTimers;
import dev.cryo.core.linux.ProcFs;
import dev.cryo.core.linux.Rlimits;
import dev.cryo.core.linux.RobustList;
import dev.cryo.core.linux.Sys;
import dev.cryo.core.linux.Tracee;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

/**
 * Collects the core state of one frozen process and each of its threads: registers, FPU state, signal state, timers,
 * credentials, limits, mm fields. Reads /proc where the kernel exposes the value and injects a syscall where it
 * does not (sigactions, itimers, brk).
 */
final class CoreCollector {
    private static final int SIGACTION_SIZE = 32;

    private CoreCollector() {
    }

    static CoreEntry collect(FrozenProcess p) throws CryoException {
        LiveTask task = p.task;
        int pid = p.pid;
        ProcFs.Stat stat = p.stat;
        Map<String, String> status = ProcFs.status(pid);

        String cwd = ProcFs.readLink(task.procDir().resolve("cwd"));
        String root = ProcFs.readLink(task.procDir().resolve("root"));
        ProcessChecks.checkDirectory(p.who(), "working directory", cwd);
        ProcessChecks.checkDirectory(p.who(), "root directory (chroot)", root);
        CoreEntry.Builder core = CoreEntry.newBuilder()
                .setPid(pid)
                .setComm(p.comm)
                .setStartTimeTicks(stat.startTime())
                .setUmask(Integer.parseInt(status.getOrDefault("Umask", "0022"), 8))
                .setCwd(cwd)
                .setRoot(root);
        long scratch = task.scratchAddress();
        for (FrozenProcess.FrozenThread ft : p.threads) {
            core.addThreads(thread(p, ft, scratch, status));
        }
        for (byte[] si : p.leader().tracee.peekPendingSignals(true)) {
            core.addSharedPending(ByteString.copyFrom(si));
        }
        long[] results = processQueries(task, scratch);
        core.setDumpable((int) results[Q_DUMPABLE] + 1);
        ByteBuffer answers = ByteBuffer.allocateDirect(EXTRA + 4 * 32 + 8).order(ByteOrder.LITTLE_ENDIAN);
        task.readMemory(scratch, answers);
        collectSigactions(answers, core);
        collectItimers(answers, core);
        collectPosixTimers(task, core, scratch);
        core.setCreds(TaskAttributes.creds(status));
        for (RlimitEntry r : Rlimits.read(task)) {
            core.addRlimits(r);
        }
        core.setMm(mm(task, stat, p.maps, results[Q_BRK]));
        core.addAllFileLocks(p.fileLocks);
        core.setStopSigno(p.stopSig());
        core.setAttrs(TaskAttributes.process(p, answers.getInt(EXTRA + 3 * 32) != 0, results[Q_THP]));
        return core.build();
    }

    /** @param status the process's {@code /proc/PID/status}: the leader's own (its other threads have theirs) */
    private static ThreadCoreEntry thread(FrozenProcess p, FrozenProcess.FrozenThread ft, long scratch,
                                          Map<String, String> status) throws CryoException {
        Tracee t = ft.tracee;
        ThreadCoreEntry.Builder thread = ThreadCoreEntry.newBuilder().setTid(t.tid())
                .setComm(threadComm(p.pid, t.tid()));
        for (long r : ft.regs) {
            thread.addGpregs(r);
        }
        thread.setXsave(ByteString.copyFrom(t.getXstate()));
        thread.setSigmask(ft.sigmask);
        long[] rseq = t.getRseq();
        if (rseq[0] != 0) {
            thread.setRseq(RseqEntry.newBuilder().setPtr(rseq[0]).setSize((int) rseq[1]).setSignature((int) rseq[2]));
        }
        for (byte[] si : t.peekPendingSignals(false)) {
            thread.addPending(ByteString.copyFrom(si));
        }
        // what only the thread itself can tell, asked in one batch (one stop): clear_child_tid, the alternate signal
        // stack (per thread: Go and Rust rely on it), securebits, the parent-death signal, the timer slack
        String[] what = {"prctl(PR_GET_TID_ADDRESS)", "sigaltstack(NULL, &old)", "prctl(PR_GET_SECUREBITS)",
            "prctl(PR_GET_PDEATHSIG)", "prctl(PR_GET_TIMERSLACK)"};
        long[][] calls = {
            {Sys.PRCTL, Sys.PR_GET_TID_ADDRESS, scratch, 0, 0, 0},
            {Sys.SIGALTSTACK, 0, scratch + 8},
            {Sys.PRCTL, Sys.PR_GET_SECUREBITS, 0, 0, 0, 0},
            {Sys.PRCTL, Sys.PR_GET_PDEATHSIG, scratch + 32, 0, 0, 0},
            {Sys.PRCTL, Sys.PR_GET_TIMERSLACK, 0, 0, 0, 0},
        };
        long[] r = t.injectBatchChecked(scratch + 64, what, calls);
        ByteBuffer b = ByteBuffer.allocateDirect(40).order(ByteOrder.LITTLE_ENDIAN);
        p.task.readMemory(scratch, b);
        thread.setClearChildTid(b.getLong(0));
        long[] robust = RobustList.of(t.tid());
        thread.setRobustList(robust[0]).setRobustListLen(robust[1]);
        thread.setAltstackSp(b.getLong(8)).setAltstackFlags(b.getInt(16) & ~1 /* SS_ONSTACK */)
                .setAltstackSize(b.getLong(24));
        thread.setAttrs(TaskAttributes.thread(p, t, t.tid() == p.pid ? status : null, r[2], b.getInt(32), r[4]));
        return thread.build();
    }

    private static String threadComm(int pid, int tid) {
        try {
            return ProcFs.readText(ProcFs.dir(pid).resolve("task").resolve(Integer.toString(tid)).resolve("comm"))
                    .strip();
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** Index in {@link #processQueries}' results of the dumpable flag, the program break and the THP flag. */
    private static final int Q_DUMPABLE = 62;
    private static final int Q_BRK = 66;
    private static final int Q_THP = 68;
    /**
     * Offset in the scratch area of the answers after the 65 sigaction slots and the batch table: 3 itimers (32 bytes
     * each), then the child-subreaper flag (4 bytes).
     */
    private static final int EXTRA = 66 * SIGACTION_SIZE + 72 * Tracee.BATCH_ENTRY_SIZE;

    /**
     * What only the process can tell, asked of its leader in one batch (one stop): the 62 rt_sigaction (each writes
     * its old action to its own 32-byte slot, at {@code sig * 32}), the dumpable flag, the 3 itimers and the child
     * subreaper flag (written at {@link #EXTRA}), the program break and the THP flag.
     *
     * @return the results of the calls, in that order
     */
    private static long[] processQueries(LiveTask task, long scratch) throws CryoException {
        String[] what = new String[69];
        long[][] calls = new long[69][];
        int i = 0;
        for (int sig = 1; sig <= 64; sig++) {
            if (sig != Sys.SIGKILL && sig != Sys.SIGSTOP) {
                what[i] = "rt_sigaction(" + sig + ", NULL, &old)";
                calls[i++] = new long[]{Sys.RT_SIGACTION, sig, 0, scratch + (long) sig * SIGACTION_SIZE, 8};
            }
        }
        what[i] = "prctl(PR_GET_DUMPABLE)";
        calls[i++] = new long[]{Sys.PRCTL, Sys.PR_GET_DUMPABLE, 0, 0, 0, 0};
        for (int which = 0; which < 3; which++) {
            what[i] = "getitimer(" + which + ")";
            calls[i++] = new long[]{Sys.GETITIMER, which, scratch + EXTRA + which * 32L};
        }
        what[i] = "brk(0)";
        calls[i++] = new long[]{Sys.BRK, 0};
        what[i] = "prctl(PR_GET_CHILD_SUBREAPER)";
        calls[i++] = new long[]{Sys.PRCTL, Sys.PR_GET_CHILD_SUBREAPER, scratch + EXTRA + 3 * 32L, 0, 0, 0};
        what[i] = "prctl(PR_GET_THP_DISABLE)";
        calls[i++] = new long[]{Sys.PRCTL, Sys.PR_GET_THP_DISABLE, 0, 0, 0, 0};
        // after the 65 slots of 32 bytes, 64-byte aligned
        return task.tracee().injectBatchChecked(scratch + 66L * SIGACTION_SIZE, what, calls);
    }

    private static void collectSigactions(ByteBuffer b, CoreEntry.Builder core) {
        for (int sig = 1; sig <= 64; sig++) {
            if (sig == Sys.SIGKILL || sig == Sys.SIGSTOP) {
                continue;
            }
            int at = sig * SIGACTION_SIZE;
            long handler = b.getLong(at);
            long flags = b.getLong(at + 8);
            long restorer = b.getLong(at + 16);
            long mask = b.getLong(at + 24);
            if (handler != 0 || flags != 0 || mask != 0) {
                core.addSigactions(SigactionEntry.newBuilder().setSigno(sig).setHandler(handler).setFlags(flags)
                        .setRestorer(restorer).setMask(mask));
            }
        }
    }

    private static void collectItimers(ByteBuffer answers, CoreEntry.Builder core) {
        for (int which = 0; which < 3; which++) {
            int at = EXTRA + which * 32;
            long isec = answers.getLong(at);
            long iusec = answers.getLong(at + 8);
            long vsec = answers.getLong(at + 16);
            long vusec = answers.getLong(at + 24);
            if (isec != 0 || iusec != 0 || vsec != 0 || vusec != 0) {
                core.addItimers(ItimerEntry.newBuilder().setWhich(which).setIntervalSec(isec)
                        .setIntervalUsec(iusec).setValueSec(vsec).setValueUsec(vusec));
            }
        }
    }

    /** timer_create timers: id, clock and sigevent from /proc/PID/timers, state by timer_gettime/timer_getoverrun. */
    private static void collectPosixTimers(LiveTask task, CoreEntry.Builder core, long scratch) throws CryoException {
        ByteBuffer b = ByteBuffer.allocateDirect(32).order(ByteOrder.LITTLE_ENDIAN);
        for (PosixTimers.Timer t : PosixTimers.of(task.pid().value())) {
            task.syscall("timer_gettime(" + t.id() + ")", Sys.TIMER_GETTIME, t.id(), scratch);
            b.clear();
            task.readMemory(scratch, b);
            long overrun = task.syscall("timer_getoverrun(" + t.id() + ")", Sys.TIMER_GETOVERRUN, t.id());
            core.addPosixTimers(PosixTimerEntry.newBuilder().setId(t.id()).setClockId(t.clockId())
                    .setNotify(t.how()).setSigno(t.signo()).setSigevValue(t.value()).setNotifyTid(t.tid())
                    .setIntervalSec(b.getLong(0)).setIntervalNsec(b.getLong(8))
                    .setValueSec(b.getLong(16)).setValueNsec(b.getLong(24)).setOverrun((int) overrun));
        }
    }

    private static MmEntry mm(LiveTask task, ProcFs.Stat stat, List<Mapping> maps, long brk) throws CryoException {
        MmEntry.Builder mm = MmEntry.newBuilder()
                .setStartCode(stat.field(26)).setEndCode(stat.field(27)).setStartStack(stat.field(28))
                .setStartData(stat.field(45)).setEndData(stat.field(46)).setStartBrk(stat.field(47)).setBrk(brk)
                .setArgStart(stat.field(48)).setArgEnd(stat.field(49))
                .setEnvStart(stat.field(50)).setEnvEnd(stat.field(51))
                .setAuxv(ByteString.copyFrom(ProcFs.readBytes(task.procDir().resolve("auxv"))))
                .setExe(ProcFs.readLink(task.procDir().resolve("exe")));
        for (Mapping m : maps) {
            mm.addLayout(SpecialVmaEntry.newBuilder().setName(m.name()).setStart(m.start()).setEnd(m.end()));
            if (m.kernelSpecial() && !m.name().equals("[vsyscall]")) {
                mm.addSpecials(SpecialVmaEntry.newBuilder().setName(m.name()).setStart(m.start()).setEnd(m.end()));
            }
        }
        return mm.build();
    }

}
