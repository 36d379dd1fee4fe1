package dev.cryo.plugin.memory;

import dev.cryo.api.SyscallFlags;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * What the smaps {@code VmFlags} of a mapping (recorded at dump in {@code VmaEntry.vm_flags}) ask of its restore.
 * Names as {@code fs/proc/task_mmu.c} prints them (kernel 6.18):
 * <ul>
 *   <li>at {@code mmap}: {@code nr} MAP_NORESERVE, {@code gd} MAP_GROWSDOWN, {@code dp} MAP_DROPPABLE (the
 *       mapping type instead of MAP_PRIVATE; the kernel then sets {@code wf dd nr} itself);</li>
 *   <li>{@code madvise}, strictly (the program can tell): {@code dc} MADV_DONTFORK, {@code wf} MADV_WIPEONFORK
 *       (private anonymous memory only);</li>
 *   <li>{@code madvise}, as hints whose failure is ignored (they change performance or core dumps, not what the
 *       program reads; a kernel without THP or KSM refuses them): {@code hg} MADV_HUGEPAGE, {@code nh}
 *       MADV_NOHUGEPAGE, {@code dd} MADV_DONTDUMP, {@code mg} MADV_MERGEABLE, {@code sr} MADV_SEQUENTIAL,
 *       {@code rr} MADV_RANDOM;</li>
 *   <li>after the contents and the protection: {@code lo} {@code mlock2} ({@code lf}: MLOCK_ONFAULT), and last
 *       {@code sl} {@code mseal} (a sealed mapping cannot be changed any more).</li>
 * </ul>
 * {@code gu} (the mapping has guard regions) is rebuilt from the guard pages recorded at dump, not from the flag.
 * The other flags follow from the mapping itself (rd wr ex sh mr mw me ms ac sd...).
 */
final class VmaFlags {
    /** One madvise call: the flag it restores, the advice, whether its failure fails the restore. */
    record Advice(String flag, int advice, String name, boolean strict) {
    }

    static final String DROPPABLE = "dp";
    static final String LOCKED = "lo";
    static final String LOCK_ON_FAULT = "lf";
    static final String SEALED = "sl";
    static final String GUARDED = "gu";

    private VmaFlags() {
    }

    /** @return the mmap flags besides MAP_FIXED_NOREPLACE and MAP_ANONYMOUS: the type and the flags of {@code f} */
    static long mapFlags(Collection<String> f, boolean shared) {
        long flags = shared ? SyscallFlags.MAP_SHARED
                : f.contains(DROPPABLE) ? MemorySyscalls.MAP_DROPPABLE : SyscallFlags.MAP_PRIVATE;
        if (f.contains("gd")) {
            flags |= MemorySyscalls.MAP_GROWSDOWN;
        }
        if (f.contains("nr")) {
            flags |= MemorySyscalls.MAP_NORESERVE;
        }
        return flags;
    }

    /** @return the madvise calls that give a mapping of {@code kind}, created by {@link #mapFlags}, flags {@code f} */
    static List<Advice> advices(Collection<String> f, MappingKind kind) {
        List<Advice> a = new ArrayList<>();
        boolean droppable = f.contains(DROPPABLE); // MAP_DROPPABLE already sets wf and dd
        if (f.contains("dc")) {
            a.add(new Advice("dc", MemorySyscalls.MADV_DONTFORK, "MADV_DONTFORK", true));
        }
        if (f.contains("wf") && kind == MappingKind.ANON_PRIVATE && !droppable) {
            a.add(new Advice("wf", MemorySyscalls.MADV_WIPEONFORK, "MADV_WIPEONFORK", true));
        }
        if (f.contains("hg")) {
            a.add(new Advice("hg", MemorySyscalls.MADV_HUGEPAGE, "MADV_HUGEPAGE", false));
        }
        if (f.contains("nh")) {
            a.add(new Advice("nh", MemorySyscalls.MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE", false));
        }
        if (f.contains("dd") && !droppable) {
            a.add(new Advice("dd", MemorySyscalls.MADV_DONTDUMP, "MADV_DONTDUMP", false));
        }
        if (f.contains("mg")) {
            a.add(new Advice("mg", MemorySyscalls.MADV_MERGEABLE, "MADV_MERGEABLE", false));
        }
        if (f.contains("sr")) {
            a.add(new Advice("sr", MemorySyscalls.MADV_SEQUENTIAL, "MADV_SEQUENTIAL", false));
        }
        if (f.contains("rr")) {
            a.add(new Advice("rr", MemorySyscalls.MADV_RANDOM, "MADV_RANDOM", false));
        }
        return a;
    }

    /** @return the flags argument of {@code mlock2}, or -1 when the mapping was not locked */
    static long mlockFlags(Collection<String> f) {
        if (!f.contains(LOCKED)) {
            return -1;
        }
        return f.contains(LOCK_ON_FAULT) ? MemorySyscalls.MLOCK_ONFAULT : 0;
    }
}
