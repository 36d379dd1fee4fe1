package dev.cryo.plugin.memory;

import dev.cryo.api.CryoException;
import dev.cryo.api.Mapping;
import dev.cryo.api.MemoryHandler;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.Syscall;
import dev.cryo.plugin.memory.proto.CowRun;
import dev.cryo.plugin.memory.proto.PageRun;
import dev.cryo.plugin.memory.proto.VmaEntry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Private memory a child still shares copy-on-write with its parent (a page neither wrote since the fork).
 *
 * <h2>Dump</h2>
 * Processes come parents first. For each process the private anonymous mappings a child could have inherited are
 * remembered ({@link #remember}); for a child whose parent was dumped before in this dump, each of its private
 * anonymous mappings with a twin in the parent (same range, protection, name and VmFlags; no DONTFORK, WIPEONFORK,
 * seal, guard or hugetlb; a parent without any sealed mapping) has its pagemap compared with the parent's: the
 * pages present in both with the same PFN (root reads PFNs; without them nothing is found) are recorded as
 * {@code cow_runs}. Every page is still saved: the image restores without the sharing too.
 *
 * <h2>Restore</h2>
 * {@link MemoryHandler#inheritedRanges} names the mappings with {@code cow_runs}; core then forks the child from
 * its parent after the parent's memory was restored and keeps those ranges. {@link #restoreInherited} finds the
 * range mapped as private anonymous memory, drops every page outside the runs (MADV_DONTNEED: those read as zero
 * unless saved) and loads the saved pages outside the runs; the runs keep the parent's pages, shared. A range not
 * found mapped so is restored as any other mapping.
 */
final class CowSharing {
    private static final long PAGE = MemorySyscalls.PAGE_SIZE;
    private static final long PM_PRESENT = 1L << 63;
    private static final long PFN_MASK = (1L << 55) - 1;
    /** VmFlags that make a mapping not (or not as it is) inherited by a fork, or not changeable in the child. */
    private static final List<String> NOT_INHERITED = List.of("dc", "wf", VmaFlags.SEALED, VmaFlags.GUARDED);

    /** What the dump saw of a process, for its children: its eligible mappings and their PFNs by start. */
    private record Parent(Map<Long, VmaEntry> vmas, Map<Long, long[]> pfns, boolean sealed) {
    }

    private final Map<Integer, Parent> dumped = new HashMap<>();
    /** PFNs of the process being dumped, by mapping start (see {@link #keepPfns}). */
    private final Map<Long, long[]> current = new HashMap<>();

    void reset() {
        dumped.clear();
        current.clear();
    }

    /**
     * Keeps the PFNs of a mapping of the process being dumped (0 for a page not present), read before its pages
     * are: reading a page (process_vm_readv pins it) gives the reader its own copy of a page it shared
     * copy-on-write, while the other sharers keep the page the PFN names.
     */
    void keepPfns(int pid, long start, long[] pfns) {
        current.put(start, pfns);
    }

    /** Entries' PFNs (0 when not present or hidden) into {@code out} from index {@code from}. */
    static void pfns(long[] entries, long[] out, int from) {
        for (int i = 0; i < entries.length; i++) {
            long e = entries[i];
            out[from + i] = (e & PM_PRESENT) != 0 ? e & PFN_MASK : 0;
        }
    }

    /** Remembers a process's mappings as dumped (and the PFNs kept meanwhile), for its children dumped after it. */
    void remember(int pid, List<VmaEntry> vmas) {
        Map<Long, long[]> pfns = new HashMap<>(current);
        current.clear();
        Map<Long, VmaEntry> eligible = new HashMap<>();
        boolean sealed = false;
        for (VmaEntry v : vmas) {
            sealed |= v.getVmFlagsList().contains(VmaFlags.SEALED);
            if (eligible(v)) {
                eligible.put(v.getStart(), v);
            }
        }
        pfns.keySet().retainAll(eligible.keySet());
        dumped.put(pid, new Parent(eligible, pfns, sealed));
    }

    static boolean eligible(VmaEntry.Builder b) {
        return eligible(b.buildPartial());
    }

    private static boolean eligible(VmaEntry v) {
        return v.getKind() == MappingKind.ANON_PRIVATE.proto() && !v.getShared() && v.getShmemKey().isEmpty()
                && v.getHugetlbPageSize() == 0 && v.getGuardsCount() == 0
                && noneNotInherited(v.getVmFlagsList());
    }

    /* loops, not streams of lambdas: a plugin's lambdas are not in the class data archive (issue 13) */

    private static boolean noneNotInherited(List<String> flags) {
        for (String f : flags) {
            if (NOT_INHERITED.contains(f)) {
                return false;
            }
        }
        return true;
    }

    /** @return whether a thread of the process has a child (/proc/PID/task/TID/children), or may have */
    static boolean hasChildren(RemoteTask task) throws CryoException {
        Path tasks = task.procDir().resolve("task");
        try (var threads = Files.newDirectoryStream(tasks)) {
            for (Path t : threads) {
                Path children = t.resolve("children");
                // without CONFIG_PROC_CHILDREN there is no such file: it may have children
                if (!Files.exists(children) || !Files.readString(children).isBlank()) {
                    return true;
                }
            }
        } catch (IOException e) {
            throw new CryoException(CryoException.Category.KERNEL, "memory/PROC_READ", "dump failed: reading "
                    + tasks + " of pid " + task.pid() + " \"" + task.comm() + "\" failed: " + e, null, e);
        }
        return false;
    }

    /** @return the parent's pid when it was dumped before in this dump and may share memory with {@code task} */
    int parentOf(RemoteTask task) throws CryoException {
        // stat, not status: the kernel makes status's ~55 lines (memory counters among them) for one number
        Path stat = task.procDir().resolve("stat");
        try {
            // Latin-1: a name may hold any bytes, not UTF-8
            String text = new String(Files.readAllBytes(stat), java.nio.charset.StandardCharsets.ISO_8859_1);
            // pid (comm) state ppid ...: comm may hold spaces and parentheses, the last ')' ends it
            String[] after = text.substring(text.lastIndexOf(')') + 2).split(" ", 3);
            int ppid = Integer.parseInt(after[1]);
            Parent p = dumped.get(ppid);
            return p != null && !p.sealed() ? ppid : -1;
        } catch (IOException | RuntimeException e) {
            throw new CryoException(CryoException.Category.KERNEL, "memory/PROC_READ", "dump failed: reading "
                    + stat + " of pid " + task.pid() + " \"" + task.comm() + "\" failed: " + e, null, e);
        }
    }

    /**
     * @return the PFNs of the twin of {@code b} (a mapping of a child of {@code ppid}, pages not yet added) in the
     *         parent, or null when the parent has none
     */
    long[] twinPfns(int ppid, VmaEntry.Builder b) {
        Parent p = dumped.get(ppid);
        VmaEntry twin = p == null ? null : p.vmas().get(b.getStart());
        boolean same = twin != null && twin.getEnd() == b.getEnd() && twin.getProt() == b.getProt()
                && twin.getName().equals(b.getName()) && twin.getVmFlagsList().equals(b.getVmFlagsList())
                && eligible(b.buildPartial());
        return same ? p.pfns().get(b.getStart()) : null;
    }

    /**
     * Adds the pages {@code [from, from + n)} (indexes into the mapping starting at {@code start}) whose PFN is the
     * parent's.
     */
    static void addShared(PageRuns shared, long[] pfns, long[] parentPfns, int from, int n, long start) {
        for (int i = from; i < from + n && i < pfns.length && i < parentPfns.length; i++) {
            if (pfns[i] != 0 && pfns[i] == parentPfns[i]) {
                shared.addPage(start + i * PAGE);
            }
        }
    }

    // ---- restore

    /** The ranges of records with cow runs (see {@link MemoryHandler#inheritedRanges}). */
    static List<MemoryHandler.Range> ranges(List<VmaEntry> vmas) {
        List<MemoryHandler.Range> out = new ArrayList<>();
        for (VmaEntry v : vmas) {
            if (v.getCowRunsCount() > 0 && eligible(v)) {
                out.add(new MemoryHandler.Range(v.getStart(), v.getEnd()));
            }
        }
        return out;
    }

    /** One line of /proc/PID/maps: range, whether private anonymous memory. */
    record MapsLine(long start, long end, boolean anonPrivate) {
    }

    static List<MapsLine> maps(RemoteTask task) throws CryoException {
        Path maps = task.procDir().resolve("maps");
        List<MapsLine> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(maps)) {
                String[] f = line.trim().split("\\s+", 6);
                if (f.length < 5) {
                    continue;
                }
                int dash = f[0].indexOf('-');
                long start = Long.parseUnsignedLong(f[0].substring(0, dash), 16);
                long end = Long.parseUnsignedLong(f[0].substring(dash + 1), 16);
                String name = f.length > 5 ? f[5] : "";
                boolean anon = f[1].endsWith("p") && f[4].equals("0")
                        && (name.isEmpty() || name.equals("[heap]") || name.equals("[stack]")
                        || name.startsWith("[anon:"));
                out.add(new MapsLine(start, end, anon));
            }
        } catch (IOException | RuntimeException e) {
            throw new CryoException(CryoException.Category.KERNEL, "memory/PROC_READ", "restore failed: reading "
                    + maps + " of pid " + task.pid() + " failed: " + e, null, e);
        }
        return out;
    }

    /** @return whether {@code [start, end)} is wholly private anonymous memory in {@code maps}; false when unmapped */
    static boolean inherited(List<MapsLine> maps, long start, long end) {
        long at = start;
        for (MapsLine m : maps) {
            if (m.end() <= at || m.start() >= end) {
                continue;
            }
            if (m.start() > at || !m.anonPrivate()) {
                return false;
            }
            at = m.end();
        }
        return at >= end;
    }

    /** @return whether anything of {@code maps} overlaps {@code [start, end)} */
    static boolean overlaps(List<MapsLine> maps, long start, long end) {
        for (MapsLine m : maps) {
            if (m.start() < end && m.end() > start) {
                return true;
            }
        }
        return false;
    }

    /**
     * Restores the contents of {@code v}, found mapped as inherited from the parent: drops the pages outside the
     * cow runs, loads the saved pages outside them. Protection, advice, lock and seal are the caller's.
     */
    static void restoreInherited(dev.cryo.api.MemoryRestoreContext ctx, VmaEntry v, int mapProt)
            throws CryoException {
        RemoteTask task = ctx.task();
        long start = v.getStart();
        long len = v.getEnd() - start;
        if (mapProt != v.getProt()) {
            task.syscall("mprotect(" + MemoryPluginHandler.describe(v) + ", rw for its pages)", Syscall.MPROTECT,
                    start, len, mapProt);
        }
        List<long[]> own = complement(v.getCowRunsList(), start, v.getEnd());
        for (long[] r : own) {
            task.syscall(String.format("madvise(%x-%x of %s, MADV_DONTNEED)", r[0], r[1],
                    MemoryPluginHandler.describe(v)), Syscall.MADVISE, r[0], r[1] - r[0], MemorySyscalls.MADV_DONTNEED);
        }
        for (PageRun run : v.getPagesList()) {
            long runEnd = run.getStart() + run.getLength();
            for (long[] r : own) {
                long from = Math.max(r[0], run.getStart());
                long to = Math.min(r[1], runEnd);
                if (from < to) {
                    ctx.pages().load(from, to - from, run.getPagesOffset() + (from - run.getStart()));
                }
            }
        }
    }

    /** @return the parts of {@code [start, end)} outside the runs (address order, as in the record) */
    static List<long[]> complement(List<CowRun> runs, long start, long end) {
        List<long[]> out = new ArrayList<>();
        long at = start;
        for (CowRun c : runs) {
            long cs = Math.max(start, c.getStart());
            long ce = Math.min(end, c.getStart() + c.getLength());
            if (ce <= cs) {
                continue;
            }
            if (cs > at) {
                out.add(new long[]{at, cs});
            }
            at = Math.max(at, ce);
        }
        if (at < end) {
            out.add(new long[]{at, end});
        }
        return out;
    }

    /** Adds the runs to the record. */
    static void addRuns(VmaEntry.Builder b, List<PageRuns.Run> runs) {
        for (PageRuns.Run r : runs) {
            b.addCowRuns(CowRun.newBuilder().setStart(r.start()).setLength(r.length()));
        }
    }

    static boolean isAnonPrivate(Mapping m) {
        return MappingKind.of(m) == MappingKind.ANON_PRIVATE;
    }
}
