package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Errno;
import dev.cryo.core.image.proto.ProcessAttrsEntry;
import dev.cryo.core.image.proto.SchedEntry;
import dev.cryo.core.image.proto.ThreadAttrsEntry;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.NativeMemory;
import dev.cryo.core.linux.LiveTask;
import dev.cryo.core.linux.ProcFs;
import dev.cryo.core.linux.Sys;
import dev.cryo.core.linux.Tracee;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Restores what {@code TaskAttributes} dumped, each in its place relative to the credentials
 * ({@link CredentialsRestore}): process-wide attributes and per-thread timer slack, personality and no_new_privs
 * before them; the parent-death signal after them (a credential change clears it); scheduling last, from cryo with
 * {@code sched_setattr(TID)} (it does not depend on the thread's own privileges).
 */
final class TaskAttributesRestore {
    private static final int SCHED_ATTR_SIZE = 56;
    private static final long SCHED_FLAGS_KEPT = 0x01 | 0x02 | 0x04; // RESET_ON_FORK, RECLAIM, DL_OVERRUN
    private static final long SCHED_FLAG_UTIL_CLAMP = 0x20 | 0x40;
    private static final int SCHED_DEADLINE = 6;

    private TaskAttributesRestore() {
    }

    /** Child subreaper, THP disable and KSM for every mapping (prctl in the process), oom_score_adj (written by cryo). */
    static void process(LiveTask task, ProcessAttrsEntry a) throws CryoException {
        if (a.getChildSubreaper()) {
            task.syscall("prctl(PR_SET_CHILD_SUBREAPER, 1)", Sys.PRCTL, Sys.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
        if (a.getThpDisable() != 0) {
            task.syscall("prctl(PR_SET_THP_DISABLE, 1, " + (a.getThpDisable() & ~1) + ")", Sys.PRCTL,
                    Sys.PR_SET_THP_DISABLE, 1, a.getThpDisable() & ~1, 0, 0);
        }
        if (a.getMemoryMerge()) {
            task.syscall("prctl(PR_SET_MEMORY_MERGE, 1)", Sys.PRCTL, Sys.PR_SET_MEMORY_MERGE, 1, 0, 0, 0);
        }
        Path oom = task.procDir().resolve("oom_score_adj");
        try {
            if (Integer.parseInt(ProcFs.readTrimmed(oom)) != a.getOomScoreAdj()) {
                Files.writeString(oom, Integer.toString(a.getOomScoreAdj()));
            }
        } catch (IOException e) {
            throw new CryoException(Category.KERNEL, "core/OOM_SCORE_ADJ", "cannot restore oom_score_adj "
                    + a.getOomScoreAdj() + " of " + task.who() + ": writing " + oom + " failed: " + e.getMessage(),
                    a.getOomScoreAdj() < 0 ? "lowering oom_score_adj below cryo's own needs CAP_SYS_RESOURCE: run"
                            + " cryo with it (grep CapEff /proc/self/status; bit 24)" : null, e);
        }
    }

    /** Timer slack, personality and no_new_privs of one thread, injected into it. */
    static void threadBeforeCreds(Tracee t, ThreadAttrsEntry a) throws CryoException {
        if (a.getTimerslackNs() != 0) {
            t.injectChecked("prctl(PR_SET_TIMERSLACK, " + a.getTimerslackNs() + ")", Sys.PRCTL, Sys.PR_SET_TIMERSLACK,
                    a.getTimerslackNs(), 0, 0, 0);
        }
        t.injectChecked("personality(0x" + Integer.toHexString(a.getPersonality()) + ")", Sys.PERSONALITY,
                a.getPersonality() & 0xffffffffL);
        if (a.getNoNewPrivs()) {
            t.injectChecked("prctl(PR_SET_NO_NEW_PRIVS, 1)", Sys.PRCTL, Sys.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        }
    }

    /** The parent-death signal of one thread; after the credentials, whose change would clear it. */
    static void threadAfterCreds(Tracee t, ThreadAttrsEntry a) throws CryoException {
        if (a.getPdeathSig() != 0) {
            t.injectChecked("prctl(PR_SET_PDEATHSIG, " + a.getPdeathSig() + ")", Sys.PRCTL, Sys.PR_SET_PDEATHSIG,
                    a.getPdeathSig(), 0, 0, 0);
        }
    }

    /** sched_setattr(tid) from cryo: policy, priority, nice, flags, deadline parameters, utilization clamps. */
    static void sched(int tid, SchedEntry s, String who) throws CryoException {
        NativeMemory b = NativeMemory.allocate(SCHED_ATTR_SIZE);
        // util clamps read 0/0 on a kernel without CONFIG_UCLAMP_TASK, 0/1024 when unset
        boolean clamped = !(s.getUtilMin() == 0 && (s.getUtilMax() == 0 || s.getUtilMax() == 1024));
        long runtime = s.getRuntime();
        if (s.getPolicy() != SCHED_DEADLINE) {
            // for the fair classes sched_runtime is the time slice: a value given marks it custom, so give it only
            // when it differs from the slice the new thread has (the default one)
            if (LibC.INSTANCE.syscall(Sys.SCHED_GETATTR, tid, b.address(), SCHED_ATTR_SIZE, 0, 0, 0) == 0
                    && b.getLong(24) == runtime) {
                runtime = 0;
            }
        }
        b.putInt(0, SCHED_ATTR_SIZE);
        b.putInt(4, s.getPolicy());
        b.putLong(8, (s.getFlags() & SCHED_FLAGS_KEPT) | (clamped ? SCHED_FLAG_UTIL_CLAMP : 0));
        b.putInt(16, s.getNice());
        b.putInt(20, s.getPriority());
        b.putLong(24, runtime);
        b.putLong(32, s.getDeadline());
        b.putLong(40, s.getPeriod());
        b.putInt(48, s.getUtilMin());
        b.putInt(52, s.getUtilMax());
        long r = LibC.INSTANCE.syscall(Sys.SCHED_SETATTR, tid, b.address(), 0, 0, 0, 0);
        if (r < 0) {
            int errno = LibC.errno();
            throw new CryoException(Category.KERNEL, "core/SCHED", "cannot restore the scheduling of thread " + tid
                    + " of " + who + " (policy " + s.getPolicy() + ", priority " + s.getPriority() + ", nice "
                    + s.getNice() + "): sched_setattr failed: " + Errors.describe(errno),
                    errno == Errno.EPERM.number() ? "real-time and raised priorities need CAP_SYS_NICE (and real-time"
                            + " runtime in cryo's cgroup)" : null);
        }
    }
}
