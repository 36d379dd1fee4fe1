package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;

import java.util.ArrayList;
import java.util.List;

/**
 * Refuses kernel state that tasks of the tree share through {@code clone} flags and that a restore would give each
 * of them separately — silently: cryo creates every process with a fork-like {@code clone3} (own fd table, own
 * filesystem context, own signal handlers, own memory) and every thread with all of them shared.
 * <ul>
 *   <li>between processes: one fd table ({@code CLONE_FILES}), one cwd/root/umask ({@code CLONE_FS}), one
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
            List<FrozenProcess> sorted = new ArrayList<>(live);
            try {
                sorted.sort((a, b) -> kcmp(a.pid, b.pid, k.type));
            } catch (KcmpFailure e) {
                throw e.failure;
            }
            for (int i = 1; i < sorted.size(); i++) {
                FrozenProcess a = sorted.get(i - 1);
                FrozenProcess b = sorted.get(i);
                if (kcmpChecked(a.pid, b.pid, k.type) == 0) {
                    FrozenProcess first = a.pid < b.pid ? a : b;
                    FrozenProcess second = first == a ? b : a;
                    throw new CryoException(Category.UNSUPPORTED, "core/SHARED_" + k.flag.split(" ")[0]
                            .substring("CLONE_".length()), "dump refused: " + second.who() + " shares its "
                            + k.what + " with " + first.who() + " (" + k.flag + "); cryo restores every process with "
                            + "its own, so " + k.consequence,
                            "dump when the processes no longer share it (after an exec or unshare(" + k.flag
                                    .split(" ")[0] + ")), or start them with fork instead of clone(" + k.flag
                                    .split(" ")[0] + ")");
                }
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
