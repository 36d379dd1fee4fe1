package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.image.proto.CapsEntry;
import dev.cryo.core.image.proto.CredsEntry;
import dev.cryo.core.image.proto.ProcessAttrsEntry;
import dev.cryo.core.image.proto.SchedEntry;
import dev.cryo.core.image.proto.SeccompFilterEntry;
import dev.cryo.core.image.proto.ThreadAttrsEntry;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.NativeMemory;
import dev.cryo.core.linux.ProcFs;
import dev.cryo.core.linux.Sys;
import dev.cryo.core.linux.Tracee;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * Dumps the attributes a process carries besides memory, registers and signals (restored by
 * {@code TaskAttributesRestore} and {@code CredentialsRestore}):
 * <ul>
 * <li>per process: child subreaper ({@code prctl(PR_GET_CHILD_SUBREAPER)}, injected), THP disable
 * ({@code prctl(PR_GET_THP_DISABLE)}, injected: it is a flag of the mm), {@code /proc/PID/oom_score_adj}, KSM for
 * every mapping ({@code prctl(PR_SET_MEMORY_MERGE)}: {@code ksm_merge_any} of {@code /proc/PID/ksm_stat});</li>
 * <li>per thread, where the kernel keeps them: credentials and capability sets ({@code /proc/PID/task/TID/status}),
 * securebits, parent-death signal and timer slack ({@code prctl}, injected into that thread), scheduling policy,
 * priority and nice ({@code sched_getattr(TID)} from cryo), no_new_privs, personality.</li>
 * </ul>
 * The parent-death signal of the tree's root is refused: its parent is outside the tree, and after a restore the
 * root's parent is cryo, whose exit would deliver the signal.
 */
final class TaskAttributes {
    /** struct sched_attr as of Linux 4.x with utilization clamps (SCHED_ATTR_SIZE_VER1). */
    static final int SCHED_ATTR_SIZE = 56;

    private TaskAttributes() {
    }

    /**
     * @param subreaper what {@code prctl(PR_GET_CHILD_SUBREAPER)} answered in the process
     * @param thp       what {@code prctl(PR_GET_THP_DISABLE)} answered in the process
     */
    static ProcessAttrsEntry process(FrozenProcess p, boolean subreaper, long thp) throws CryoException {
        int oom = Integer.parseInt(ProcFs.readTrimmed(ProcFs.dir(p.pid).resolve("oom_score_adj")));
        return ProcessAttrsEntry.newBuilder().setChildSubreaper(subreaper).setThpDisable((int) thp)
                .setOomScoreAdj(oom).setMemoryMerge(mergeAny(p.pid)).build();
    }

    /** @return whether the process asked KSM for all its memory; {@code false} on a kernel without KSM */
    static boolean mergeAny(int pid) {
        try {
            return parseMergeAny(java.nio.file.Files.readString(ProcFs.dir(pid).resolve("ksm_stat")));
        } catch (java.io.IOException e) {
            return false; // no ksm_stat: CONFIG_KSM is off, nothing can have been asked
        }
    }

    static boolean parseMergeAny(String ksmStat) {
        // lines, not a stream of lambdas: read while the tree is frozen (issue 13)
        for (String l : ksmStat.split("\n")) {
            if (l.replace(" ", "").equals("ksm_merge_any:yes")) {
                return true;
            }
        }
        return false;
    }

    /**
     * @param taskStatus the thread's {@code /proc/PID/task/TID/status} when the caller has it already (the leader's is
     *                   {@code /proc/PID/status}), else null: read here
     * @param secbits    what {@code prctl(PR_GET_SECUREBITS)} answered in the thread, {@code pdeath}
     *                   {@code PR_GET_PDEATHSIG}, {@code slack} {@code PR_GET_TIMERSLACK}
     */
    static ThreadAttrsEntry thread(FrozenProcess p, Tracee t, Map<String, String> taskStatus, long secbits, int pdeath,
                                   long slack) throws CryoException {
        int tid = t.tid();
        Map<String, String> status = taskStatus != null ? taskStatus : ProcFs.taskStatus(p.pid, tid);
        if (pdeath != 0 && p.root) {
            throw new CryoException(Category.UNSUPPORTED, "core/ROOT_PDEATHSIG", "dump refused: " + (tid == p.pid
                    ? p.who() : "thread " + tid + " of " + p.who()) + ", the root of the tree, has a parent-death"
                    + " signal (prctl PR_SET_PDEATHSIG " + pdeath + ") tied to its parent pid " + p.stat.ppid()
                    + " outside the tree; restored, its parent would be cryo and the signal would come when cryo"
                    + " exits", "dump the tree from the parent (-t " + p.stat.ppid() + "), or have the program clear"
                    + " its parent-death signal");
        }
        CapsEntry caps = CapsEntry.newBuilder()
                .setInheritable(ProcFs.hexField(status, "CapInh")).setPermitted(ProcFs.hexField(status, "CapPrm"))
                .setEffective(ProcFs.hexField(status, "CapEff")).setBounding(ProcFs.hexField(status, "CapBnd"))
                .setAmbient(ProcFs.hexField(status, "CapAmb")).setSecurebits((int) secbits).build();
        ThreadAttrsEntry.Builder attrs = ThreadAttrsEntry.newBuilder();
        seccomp(p, t, status, attrs);
        return attrs
                .setCreds(creds(status))
                .setCaps(caps)
                .setPdeathSig(pdeath)
                .setSched(sched(tid, t.who()))
                .setNoNewPrivs("1".equals(status.get("NoNewPrivs")))
                .setTimerslackNs(slack)
                .setPersonality((int) Long.parseLong(ProcFs.readTrimmed(
                        ProcFs.taskDir(p.pid, tid).resolve("personality")), 16))
                .build();
    }

    /**
     * Seccomp mode and, in filter mode, every filter of the thread, oldest first (PTRACE_SECCOMP_GET_FILTER: index 0
     * is the newest). A filter that hands system calls to a supervisor (SECCOMP_RET_USER_NOTIF) is refused: its
     * listener cannot be reconnected.
     */
    private static void seccomp(FrozenProcess p, Tracee t, Map<String, String> status, ThreadAttrsEntry.Builder attrs)
            throws CryoException {
        int mode = Integer.parseInt(status.getOrDefault("Seccomp", "0"));
        attrs.setSeccompMode(mode);
        if (mode != 2) {
            return;
        }
        java.util.List<SeccompFilterEntry> filters = new java.util.ArrayList<>();
        for (int i = 0; ; i++) {
            byte[] prog = t.seccompFilter(i);
            if (prog == null) {
                break;
            }
            if (returnsUserNotif(prog)) {
                throw new CryoException(Category.UNSUPPORTED, "core/SECCOMP_USER_NOTIF", "dump refused: "
                        + (t.tid() == p.pid ? p.who() : "thread " + t.tid() + " of " + p.who()) + " has a seccomp"
                        + " filter that hands system calls to a supervisor (SECCOMP_RET_USER_NOTIF); cryo cannot"
                        + " reconnect its listener", "dump the process before it installs that filter");
            }
            filters.add(0, SeccompFilterEntry.newBuilder().setProgram(com.google.protobuf.ByteString.copyFrom(prog))
                    .setFlags(t.seccompFilterFlags(i)).build());
        }
        attrs.addAllSeccompFilters(filters);
    }

    /** @return whether a cBPF program has a {@code ret #SECCOMP_RET_USER_NOTIF} instruction */
    static boolean returnsUserNotif(byte[] prog) {
        ByteBuffer b = ByteBuffer.wrap(prog).order(ByteOrder.LITTLE_ENDIAN);
        for (int off = 0; off + 8 <= prog.length; off += 8) {
            int code = b.getShort(off) & 0xffff;
            int k = b.getInt(off + 4);
            if (code == (0x06 | 0x00) /* BPF_RET | BPF_K */ && (k & 0xffff0000) == 0x7fc00000) {
                return true;
            }
        }
        return false;
    }

    /** Uid, Gid (real, effective, saved, fs) and supplementary groups of a status file. */
    static CredsEntry creds(Map<String, String> status) {
        String[] uid = status.get("Uid").split("\\s+");
        String[] gid = status.get("Gid").split("\\s+");
        CredsEntry.Builder c = CredsEntry.newBuilder()
                .setUid(Integer.parseUnsignedInt(uid[0])).setEuid(Integer.parseUnsignedInt(uid[1]))
                .setSuid(Integer.parseUnsignedInt(uid[2])).setFsuid(Integer.parseUnsignedInt(uid[3]))
                .setGid(Integer.parseUnsignedInt(gid[0])).setEgid(Integer.parseUnsignedInt(gid[1]))
                .setSgid(Integer.parseUnsignedInt(gid[2])).setFsgid(Integer.parseUnsignedInt(gid[3]));
        String groups = status.getOrDefault("Groups", "").trim();
        if (!groups.isEmpty()) {
            for (String g : groups.split("\\s+")) {
                c.addGroups(Integer.parseUnsignedInt(g));
            }
        }
        return c.build();
    }

    /** sched_getattr(tid) from cryo: policy, flags, nice, priority, deadline parameters, utilization clamps. */
    static SchedEntry sched(int tid, String who) throws CryoException {
        NativeMemory buf = NativeMemory.allocate(SCHED_ATTR_SIZE);
        long r = LibC.INSTANCE.syscall(Sys.SCHED_GETATTR, tid, buf.address(), SCHED_ATTR_SIZE, 0, 0, 0);
        if (r < 0) {
            throw Errors.failure("sched_getattr(" + tid + ") of " + who, LibC.errno());
        }
        return SchedEntry.newBuilder().setPolicy(buf.getInt(4)).setFlags(buf.getLong(8)).setNice(buf.getInt(16))
                .setPriority(buf.getInt(20)).setRuntime(buf.getLong(24)).setDeadline(buf.getLong(32))
                .setPeriod(buf.getLong(40)).setUtilMin(buf.getInt(48)).setUtilMax(buf.getInt(52)).build();
    }
}
