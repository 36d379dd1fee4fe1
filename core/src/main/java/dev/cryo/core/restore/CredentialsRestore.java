package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.image.proto.CapsEntry;
import dev.cryo.core.image.proto.CredsEntry;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LiveTask;
import dev.cryo.core.linux.ProcFs;
import dev.cryo.core.linux.Sys;
import dev.cryo.core.linux.Tracee;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Gives each restored thread its dumped credentials: ids, supplementary groups, capability sets (effective,
 * permitted, inheritable, bounding, ambient) and securebits. Credentials are per thread (glibc's setuid() broadcasts
 * to every thread with a signal; an injected syscall acts on its thread only), so every step is injected into each
 * thread, and the result is read back from {@code /proc/PID/task/TID/status}: a thread whose credentials differ
 * from the dump fails the restore.
 *
 * <p>The order matters, because each step needs privileges the next one may drop. The stub starts as cryo: root,
 * with cryo's capabilities.
 * <ol>
 * <li>setgroups; securebits |= SECBIT_NO_SETUID_FIXUP, so that leaving uid 0 keeps the capabilities for now;
 * setresgid, setfsgid, setresuid, setfsuid;</li>
 * <li>capset with the dumped inheritable set (raising it needs the full bounding set still there);</li>
 * <li>ambient capabilities raised (they need the permitted and inheritable bits, and no
 * SECBIT_NO_CAP_AMBIENT_RAISE yet);</li>
 * <li>bounding set trimmed with PR_CAPBSET_DROP and the dumped securebits set (both need CAP_SETPCAP);</li>
 * <li>capset with the dumped effective, permitted and inheritable sets; the ambient set survives, being within
 * permitted ∩ inheritable.</li>
 * </ol>
 * Images of cryo versions that recorded no capabilities get the ids only (the kernel's setuid fix-ups apply).
 */
final class CredentialsRestore {
    private static final int CAP_VERSION_3 = 0x20080522;

    private CredentialsRestore() {
    }

    /**
     * @param creds the thread's dumped credentials (the process's for images that recorded none per thread)
     * @param caps  the thread's dumped capabilities, or null when the image has none
     * @param data  a scratch address in the task
     */
    static void thread(LiveTask task, Tracee t, CredsEntry creds, CapsEntry caps, long data) throws CryoException {
        int pid = task.pid().value();
        String who = t.tid() == pid ? task.who() : "thread " + t.tid() + " of " + task.who();
        Map<String, String> now = ProcFs.taskStatus(pid, t.tid());
        boolean idsSame = ids(now).equals(ids(creds)) && groups(now).equals(groups(creds));
        long secbits = t.injectChecked("prctl(PR_GET_SECUREBITS)", Sys.PRCTL, Sys.PR_GET_SECUREBITS, 0, 0, 0, 0);
        boolean capsSame = caps == null || (capSets(now).equals(capSets(caps)) && secbits == caps.getSecurebits());
        if (idsSame && capsSame) {
            return;
        }
        if (!idsSame) {
            ByteBuffer g = ByteBuffer.allocateDirect(Math.max(4, creds.getGroupsCount() * 4))
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (int gid : creds.getGroupsList()) {
                g.putInt(gid);
            }
            g.flip();
            if (g.hasRemaining()) {
                task.writeMemory(data, g);
            }
            t.injectChecked("setgroups", Sys.SETGROUPS, creds.getGroupsCount(), data);
            if (caps != null) {
                t.injectChecked("prctl(PR_SET_SECUREBITS, NO_SETUID_FIXUP)", Sys.PRCTL, Sys.PR_SET_SECUREBITS,
                        secbits | Sys.SECBIT_NO_SETUID_FIXUP, 0, 0, 0);
            }
            t.injectChecked("setresgid", Sys.SETRESGID, creds.getGid(), creds.getEgid(), creds.getSgid());
            t.inject(Sys.SETFSGID, creds.getFsgid());
            t.injectChecked("setresuid", Sys.SETRESUID, creds.getUid(), creds.getEuid(), creds.getSuid());
            t.inject(Sys.SETFSUID, creds.getFsuid());
        }
        if (caps != null) {
            restoreCaps(task, t, who, caps, data);
        }
        check(pid, t.tid(), who, creds, caps);
    }

    private static void restoreCaps(LiveTask task, Tracee t, String who, CapsEntry caps, long data)
            throws CryoException {
        Map<String, String> now = ProcFs.taskStatus(task.pid().value(), t.tid());
        long permitted = ProcFs.hexField(now, "CapPrm");
        capset(task, t, who, permitted, permitted, caps.getInheritable(), data, caps);
        for (int cap = 0; cap < 64; cap++) {
            if ((caps.getAmbient() & (1L << cap)) != 0) {
                t.injectChecked("prctl(PR_CAP_AMBIENT, RAISE, " + cap + ") in " + who, Sys.PRCTL, Sys.PR_CAP_AMBIENT,
                        Sys.PR_CAP_AMBIENT_RAISE, cap, 0, 0);
            }
        }
        long bounding = ProcFs.hexField(now, "CapBnd");
        if ((caps.getBounding() & ~bounding) != 0) {
            throw new CryoException(Category.KERNEL, "core/CAPABILITIES", "cannot restore the bounding set of " + who
                    + " (" + hex(caps.getBounding()) + "): it held capabilities " + hex(caps.getBounding() & ~bounding)
                    + " that cryo's own bounding set lacks, and a bounding set can only shrink",
                    "run cryo with a bounding set that has them");
        }
        for (int cap = 0; cap < 64; cap++) {
            long bit = 1L << cap;
            if ((bounding & bit) != 0 && (caps.getBounding() & bit) == 0) {
                t.injectChecked("prctl(PR_CAPBSET_DROP, " + cap + ") in " + who, Sys.PRCTL, Sys.PR_CAPBSET_DROP, cap,
                        0, 0, 0);
            }
        }
        t.injectChecked("prctl(PR_SET_SECUREBITS, 0x" + Integer.toHexString(caps.getSecurebits()) + ") in " + who,
                Sys.PRCTL, Sys.PR_SET_SECUREBITS, caps.getSecurebits(), 0, 0, 0);
        capset(task, t, who, caps.getEffective(), caps.getPermitted(), caps.getInheritable(), data, caps);
    }

    private static void capset(LiveTask task, Tracee t, String who, long eff, long prm, long inh, long data,
                               CapsEntry wanted) throws CryoException {
        ByteBuffer b = ByteBuffer.allocateDirect(32).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, CAP_VERSION_3).putInt(4, 0)
                .putInt(8, (int) eff).putInt(12, (int) prm).putInt(16, (int) inh)
                .putInt(20, (int) (eff >>> 32)).putInt(24, (int) (prm >>> 32)).putInt(28, (int) (inh >>> 32));
        task.writeMemory(data, b);
        long r = t.inject(Sys.CAPSET, data, data + 8);
        if (r < 0) {
            Map<String, String> cryo = ProcFs.status((int) ProcessHandle.current().pid());
            long missing = (wanted.getPermitted() | wanted.getInheritable()) & ~ProcFs.hexField(cryo, "CapPrm");
            throw new CryoException(Category.KERNEL, "core/CAPABILITIES", "cannot restore the capabilities of " + who
                    + " (effective " + hex(wanted.getEffective()) + ", permitted " + hex(wanted.getPermitted())
                    + ", inheritable " + hex(wanted.getInheritable()) + "): capset failed: "
                    + Errors.describe((int) -r), missing != 0 ? "cryo itself lacks capabilities " + hex(missing)
                    + " the process had: run cryo with them" : null);
        }
    }

    /** Reads the thread's credentials back and fails when they are not the dumped ones. */
    private static void check(int pid, int tid, String who, CredsEntry creds, CapsEntry caps) throws CryoException {
        Map<String, String> now = ProcFs.taskStatus(pid, tid);
        List<String> diffs = new ArrayList<>();
        if (!ids(now).equals(ids(creds))) {
            diffs.add("ids " + ids(now) + " instead of " + ids(creds));
        }
        if (!groups(now).equals(groups(creds))) {
            diffs.add("groups " + groups(now) + " instead of " + groups(creds));
        }
        if (caps != null && !capSets(now).equals(capSets(caps))) {
            diffs.add("capabilities " + capSets(now) + " instead of " + capSets(caps));
        }
        if (!diffs.isEmpty()) {
            throw new CryoException(Category.KERNEL, "core/CREDENTIALS", "the restored credentials of " + who
                    + " differ from the dump: " + String.join("; ", diffs),
                    "report this with the output of -v: the kernel did not take the credentials cryo set");
        }
    }

    private static List<Long> ids(Map<String, String> status) {
        List<Long> l = new ArrayList<>();
        for (String key : List.of("Uid", "Gid")) {
            for (String v : status.get(key).trim().split("\\s+")) {
                l.add(Long.parseLong(v));
            }
        }
        return l;
    }

    private static List<Long> ids(CredsEntry c) {
        return List.of(u(c.getUid()), u(c.getEuid()), u(c.getSuid()), u(c.getFsuid()), u(c.getGid()),
                u(c.getEgid()), u(c.getSgid()), u(c.getFsgid()));
    }

    private static List<Long> groups(Map<String, String> status) {
        List<Long> l = new ArrayList<>();
        String g = status.getOrDefault("Groups", "").trim();
        if (!g.isEmpty()) {
            for (String v : g.split("\\s+")) {
                l.add(Long.parseLong(v));
            }
        }
        return l;
    }

    private static List<Long> groups(CredsEntry c) {
        return c.getGroupsList().stream().map(CredentialsRestore::u).toList();
    }

    private static List<String> capSets(Map<String, String> status) {
        return List.of("inh=" + hex(ProcFs.hexField(status, "CapInh")), "prm=" + hex(ProcFs.hexField(status, "CapPrm")),
                "eff=" + hex(ProcFs.hexField(status, "CapEff")), "bnd=" + hex(ProcFs.hexField(status, "CapBnd")),
                "amb=" + hex(ProcFs.hexField(status, "CapAmb")));
    }

    private static List<String> capSets(CapsEntry c) {
        return List.of("inh=" + hex(c.getInheritable()), "prm=" + hex(c.getPermitted()),
                "eff=" + hex(c.getEffective()), "bnd=" + hex(c.getBounding()), "amb=" + hex(c.getAmbient()));
    }

    private static long u(int v) {
        return v & 0xffffffffL;
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
