package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Refuses kernel state that tasks of the tree share through {@code clone} flags and that a restore would give each
 * of them separately — silently: cryo creates every process with a fork-like {@code clone3} (own fd table, own
 * filesystem context, own signal handlers, own memory) and every thread with all of them shared.
 * One fd table shared between processes ({@code CLONE_FILES}) is kept when each sharer is a child of another
 * sharer (a child sharing its parent's table, several children sharing theirs): the sharers get
 * {@link FrozenProcess#fdTableOf}, the image records it and the restore creates them with {@code CLONE_FILES}.
 * Refused:
 * <ul>
 *   <li>an fd table shared in any other shape (siblings sharing a table their parent no longer has);</li>
 *   <li>between processes: one cwd/root/umask ({@code CLONE_FS}), one
 *       signal-handler table ({@code CLONE_SIGHAND} without threads), one address space ({@code CLONE_VM}, e.g. a
 *       {@code vfork} child that has not exec'd yet);</li>
 *   <li>a thread whose fd table or filesystem context is not its process's ({@code unshare(CLONE_FILES)} or
 *       {@code unshare(CLONE_FS)} in a thread).</li>
 * </ul>
 * Found with {@code kcmp}, which orders the kernel objects: processes are sorted by it and equal neighbours share,
 * O(n log n) calls per kind. Zombies hold none of these and are skipped.
 */
final class CloneSharing {
    private static final int SYS_KCMP = 312;
    static final int KCMP_VM = 1;
    static final int KCMP_FILES = 2;
    static final int KCMP_FS = 3;
    static final int KCMP_SIGHAND = 4;

    /** One kind of shared state: the kcmp type, what it is called, the clone flag. */
    private record Kind(int type, String what, String flag, String consequence) {
    }

    private static final List<Kind> KINDS = List.of(
            new Kind(KCMP_FILES, "fd table", "CLONE_FILES",
                    "a file one of them opens or closes would no longer be seen by the other"),
            new Kind(KCMP_FS, "working directory, root and umask", "CLONE_FS",
                    "a chdir or umask of one would no longer change the other"),
            new Kind(KCMP_SIGHAND, "signal handlers", "CLONE_SIGHAND",
                    "a handler one of them installs would no longer apply to the other"),
            new Kind(KCMP_VM, "address space", "CLONE_VM or vfork",
                    "each would get its own copy of the memory"));

    private CloneSharing() {
    }

    static void check(FrozenTree tree) throws CryoException {
        List<FrozenProcess> live = new ArrayList<>();
        for (FrozenProcess p : tree.processes) {
            if (!p.isZombie()) {
                live.add(p);
            }
        }
        for (Kind k : KINDS) {
            for (List<FrozenProcess> group : sharing(live, k.type)) {
                if (k.type == KCMP_FILES) {
                    shareFdTable(group);
                    continue;
                }
                FrozenProcess first = group.get(0);
                FrozenProcess second = group.get(1);
                throw new CryoException(Category.UNSUPPORTED, "core/SHARED_" + k.flag.split(" ")[0]
                        .substring("CLONE_".length()), "dump refused: " + second.who() + " shares its "
                        + k.what + " with " + first.who() + " (" + k.flag + "); cryo restores every process with "
                        + "its own, so " + k.consequence,
                        "dump when the processes no longer share it (after an exec or unshare(" + k.flag
                                .split(" ")[0] + ")), or start them with fork instead of clone(" + k.flag
                                .split(" ")[0] + ")");
            }
        }
        for (FrozenProcess p : live) {
            for (FrozenProcess.FrozenThread t : p.threads) {
                int tid = t.tracee.tid();
                if (tid == p.pid) {
                    continue;
                }
                for (Kind k : List.of(KINDS.get(0), KINDS.get(1))) {
                    if (kcmpChecked(p.pid, tid, k.type) != 0) {
                        throw new CryoException(Category.UNSUPPORTED, "core/THREAD_OWN_" + k.flag
                                .substring("CLONE_".length()), "dump refused: thread " + tid + " of " + p.who()
                                + " has its own " + k.what + " (unshare(" + k.flag + ") or clone without it);"
                                + " cryo restores every thread sharing its process's", "dump when the thread no "
                                + "longer runs, or let the program create its threads with " + k.flag);
                    }
                }
            }
        }
    }

    /**
     * @return the groups of processes of {@code live} that share the kernel object of kcmp {@code type}, each with
     *         at least two members, in pid order
     */
    private static List<List<FrozenProcess>> sharing(List<FrozenProcess> live, int type) throws CryoException {
        List<FrozenProcess> sorted = new ArrayList<>(live);
        try {
            sorted.sort(new ByKcmp(type)); // a class, not a lambda: the tree is frozen (issue 13)
        } catch (KcmpFailure e) {
            throw e.failure;
        }
        List<List<FrozenProcess>> groups = new ArrayList<>();
        List<FrozenProcess> run = new ArrayList<>();
        for (FrozenProcess p : sorted) {
            if (!run.isEmpty() && kcmpChecked(run.get(0).pid, p.pid, type) != 0) {
                addGroup(groups, run);
                run = new ArrayList<>();
            }
            run.add(p);
        }
        addGroup(groups, run);
        return groups;
    }

    private static void addGroup(List<List<FrozenProcess>> groups, List<FrozenProcess> run) {
        if (run.size() > 1) {
            // a comparator class, not Comparator.comparing: the JDK's lambda inside it is not in the class data
            // archive
            run.sort(new Comparator<FrozenProcess>() {
                @Override
                public int compare(FrozenProcess a, FrozenProcess b) {
                    return Integer.compare(a.pid, b.pid);
                }
            });
            groups.add(run);
        }
    }

    /**
     * Keeps one fd table shared by {@code group} when the restore can rebuild it: each member but one (the holder)
     * is a child of another member, so the restore creates it with {@code CLONE_FILES} from its parent, which
     * already shares the holder's table, and restores the fds once, in the holder. Any other shape (siblings sharing
     * a table their parent no longer has) is refused.
     */
    private static void shareFdTable(List<FrozenProcess> group) throws CryoException {
        Set<Integer> pids = new HashSet<>();
        group.forEach(p -> pids.add(p.pid));
        List<FrozenProcess> holders = group.stream().filter(p -> !pids.contains(p.stat.ppid())).toList();
        if (holders.size() != 1) {
            FrozenProcess a = holders.get(0);
            FrozenProcess b = holders.get(1);
            throw new CryoException(Category.UNSUPPORTED, "core/SHARED_FILES", "dump refused: " + b.who()
                    + " shares its fd table with " + a.who() + " (CLONE_FILES), but neither got it from its parent"
                    + " (pid " + b.stat.ppid() + " and pid " + a.stat.ppid() + " have tables of their own): cryo"
                    + " rebuilds a shared fd table only by creating a child with CLONE_FILES from a parent that"
                    + " shares it; restored apart, a file one of them opens or closes would no longer be seen by the"
                    + " other", "dump when the processes no longer share it (after an exec or unshare(CLONE_FILES)),"
                    + " or let the parent keep the table it shares with its children (no unshare(CLONE_FILES) in the"
                    + " parent)");
        }
        FrozenProcess holder = holders.get(0);
        for (FrozenProcess p : group) {
            if (p != holder) {
                p.fdTableOf = holder.pid;
            }
        }
    }

    /** Orders processes by the kernel object of kcmp {@code type} they hold. */
    private record ByKcmp(int type) implements java.util.Comparator<FrozenProcess> {
        @Override
        public int compare(FrozenProcess a, FrozenProcess b) {
            return kcmp(a.pid, b.pid, type);
        }
    }

    private static final class KcmpFailure extends RuntimeException {
        final transient CryoException failure;

        KcmpFailure(CryoException failure) {
            super(failure.getMessage(), null, false, false);
            this.failure = failure;
        }
    }

    /** kcmp as a comparator: 0 same, -1 less, 1 greater. */
    private static int kcmp(int a, int b, int type) {
        try {
            int r = kcmpChecked(a, b, type);
            return r == 0 ? 0 : r == 1 ? -1 : 1;
        } catch (CryoException e) {
            throw new KcmpFailure(e);
        }
    }

    /** @return kcmp's answer: 0 same, 1 less, 2 greater */
    private static int kcmpChecked(int a, int b, int type) throws CryoException {
        if (a == b) {
            return 0;
        }
        long r = LibC.INSTANCE.syscall(SYS_KCMP, a, b, type, 0, 0, 0);
        if (r >= 0 && r <= 2) {
            return (int) r;
        }
        String call = "kcmp(pid " + a + ", pid " + b + ", type " + type + ")";
        throw r == -1 ? Errors.failure(call, LibC.errno())
                : new CryoException(Category.KERNEL, "core/SYSCALL_FAILED", call + " returned " + r + ", not an order");
    }
}
