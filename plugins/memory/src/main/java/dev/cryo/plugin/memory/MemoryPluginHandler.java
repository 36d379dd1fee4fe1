package dev.cryo.plugin.memory;

import dev.cryo.api.Syscall;
import com.google.protobuf.Descriptors;
import dev.cryo.api.Config;
import dev.cryo.api.LifecycleEvent;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.CryoException;
import dev.cryo.api.Errno;
import dev.cryo.api.Mapping;
import dev.cryo.api.MemoryDumpContext;
import dev.cryo.api.MemoryHandler;
import dev.cryo.api.MemoryRestoreContext;
import dev.cryo.api.Pid;
import dev.cryo.api.RemoteTask;
import dev.cryo.plugin.memory.proto.GuardRun;
import dev.cryo.plugin.memory.proto.PageRun;
import dev.cryo.plugin.memory.proto.VmaEntry;
import org.pf4j.Extension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static dev.cryo.api.SyscallFlags.*;
import static dev.cryo.plugin.memory.MemorySyscalls.*;

/**
 * The {@code memory} handler: anonymous private and shared memory, private and shared file mappings.
 *
 * <h2>Dump</h2>
 * One {@link VmaEntry} per mapping, in address order, with the pages worth keeping (see {@link MappingKind#keeps}):
 * present or swapped pages of private anonymous memory, only the written pages of private file mappings, nothing
 * of shared file mappings. Adjacent pages are saved as one run ({@link PageRuns}). Private mappings that
 * {@code smaps} reports without any resident or swapped page ({@link Mapping#mayHavePages()}, from the smaps core
 * read at the freeze) are not scanned at all.
 *
 * <p>Shared memory (MAP_SHARED|MAP_ANONYMOUS, {@code [anon_shmem:...]}, MAP_SHARED of a memfd) is one shmem object
 * that several mappings and processes may show: {@link SharedMemoryDump} saves each part of an object once, reading
 * the object itself (a page another process wrote need not be in this process's page table), and records the
 * object's identity so that restore maps one memfd everywhere.
 *
 * <p>MAP_SHARED mappings of regular files that were unlinked (ghost files) are saved and recreated with
 * {@link GhostMappings}, as one file with the {@code regular-file} plugin's fds on it.
 *
 * <p>Private anonymous pages a child still shares copy-on-write with its parent are recorded as {@code cow_runs}
 * and shared again at restore, the child inheriting them from its restored parent ({@link CowSharing},
 * {@link #inheritedRanges}).
 *
 * <p>Refused at dump: a MAP_PRIVATE mapping of a file that was deleted, {@code memory/DELETED_FILE}; a MAP_PRIVATE
 * mapping of a memfd, {@code memory/PRIVATE_MEMFD}; SysV shared memory, {@code memory/SYSV_SHM}; hugetlb memory,
 * {@code memory/HUGETLB}.
 *
 * <p>What the kernel holds is dumped as it is, as CRIU does: pages of a mapping without PROT_READ are saved like any
 * other (the {@link dev.cryo.api.PageSink} reads what process_vm_readv cannot through {@code /proc/PID/mem}, never
 * changing the protection); guard regions (MADV_GUARD_INSTALL, pagemap bit 58, smaps {@code gu}) are recorded as
 * {@code GuardRun}s without data; pages of a file mapping past the end of its file are never present and are
 * simply not saved (they raise SIGBUS again after restore, the mapping having its dumped length).
 *
 * <h2>Restore</h2>
 * Every file mapping is checked first with {@link MappedFileCheck} (nothing injected yet when that fails). Then
 * per mapping: one {@code mmap} with MAP_FIXED_NOREPLACE at the dumped address (RW added only when pages are to be
 * written), page contents, one {@code mprotect} only when the final protection differs, MADV_GUARD_INSTALL per
 * guard run. Consecutive mappings of
 * one file share one {@code openat}. Shared memory is mapped from one memfd per object ({@link SharedMemoryRestore});
 * after restore such mappings show as {@code /memfd:cryo-shmem (deleted)} (or the memfd's own name), which a later
 * dump handles the same way. The smaps VmFlags recorded at dump are given back as {@link VmaFlags} says: MAP_NORESERVE,
 * MAP_GROWSDOWN and MAP_DROPPABLE at mmap (droppable memory keeps its saved data until the kernel drops it); madvise
 * DONTFORK and WIPEONFORK strictly, HUGEPAGE, NOHUGEPAGE, DONTDUMP, MERGEABLE, SEQUENTIAL and RANDOM as hints; then
 * mlock2 and, last, mseal.
 * {@code [anon:NAME]} is renamed with {@code PR_SET_VMA} (cosmetic; failure ignored).
 *
 * <p>Lifetime and threading: the tracer thread only, per the SPI. One instance serves one command (a dump or a
 * restore) and keeps the shared-memory state across its processes; it is also this plugin's
 * {@link LifecycleListener} and {@link #finishRestore}, which reset and release that state.
 */
@Extension
public final class MemoryPluginHandler implements MemoryHandler, LifecycleListener {
    /** The kind written into images; also the plugin id. */
    public static final String KIND = "memory";
    /** Pagemap is read at most this many bytes of address space at a time (2 MiB of entries). */
    static final long SCAN_CHUNK = 1L << 30;
    static final String SKIP_SIZE_CHECK = "skip-file-size-check";

    /** Shared memory saved so far in this dump (state across processes). */
    private final SharedMemoryDump shared = new SharedMemoryDump();
    /** Memfds created so far in this restore (state across processes). */
    private final SharedMemoryRestore sharedRestore = SharedMemoryRestore.SHARED;
    /** Ghost files recreated so far in this restore. */
    private final GhostMappings ghosts = new GhostMappings();
    /** Private memory of the processes dumped so far, for their children's copy-on-write sharing. */
    private final CowSharing cow = new CowSharing();
    /**
     * The size of each mapped file of this dump, by device, inode and path: the processes of a tree map the same
     * files (libc, the loader, the program), each stat'ed through {@code /proc/PID/map_files} (a 64-process ring's
     * dump: 960 stats, 3 distinct files; issue 13). The path too because the device maps shows is the superblock's:
     * btrfs subvolumes share one and number their inodes apart. A file changing size during the dump gets one size.
     */
    private final java.util.Map<String, Long> fileSizes = new java.util.HashMap<>();
    /** Each flag set of this dump's mappings, sorted ({@link #sortedFlags}); by identity: the sets are shared. */
    private final java.util.Map<java.util.Set<String>, List<String>> sortedFlagSets = new java.util.IdentityHashMap<>();

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public boolean probe(Mapping mapping) {
        return MappingKind.handles(mapping);
    }

    @Override
    public void dump(MemoryDumpContext ctx, List<Mapping> mappings) throws CryoException {
        RemoteTask task = ctx.task();
        int ppid = ctx.dryRun() ? -1 : cow.parentOf(task);
        boolean parent = !ctx.dryRun() && CowSharing.hasChildren(task);
        List<VmaEntry> written = new java.util.ArrayList<>();
        for (Mapping m : mappings) {
            MappingKind kind = MappingKind.of(m);
            VmaEntry.Builder b = VmaEntry.newBuilder()
                    .setStart(m.start()).setEnd(m.end()).setProt(m.prot()).setShared(m.shared())
                    .setGrowsDown(m.vmFlags().contains("gd")).setName(m.name()).setKind(kind.proto())
                    .addAllVmFlags(sortedFlags(m.vmFlags()));
            if (HugetlbMemory.is(m)) {
                b.setHugetlbPageSize(HugetlbMemory.pageSize(task.pid(), task.comm(), m));
            }
            boolean guarded = m.vmFlags().contains(VmaFlags.GUARDED);
            if (kind == MappingKind.ANON_SHARED) {
                checkNotSysV(task.pid(), task.comm(), m);
                // the object's pages may sit in other processes' page tables only: no smaps/pagemap shortcut
                shared.dump(task, ctx.pages(), m, b);
                if (guarded) {
                    addGuards(b, scan(task, m, PageRuns.guards()));
                }
                write(ctx, written, b);
                continue;
            }
            if (GhostMappings.isGhost(m)) {
                GhostMappings.describe(task, m, b);
                shared.savePages(task, ctx.pages(), m, b);
                write(ctx, written, b);
                continue;
            }
            if (kind.fileBacked()) {
                checkNotDeleted(task.pid(), task.comm(), m);
                b.setPath(m.name()).setFileOffset(m.offset()).setDev(m.dev()).setInode(m.inode())
                        .setFileSize(cachedFileSize(task, m));
            }
            if (guarded) {
                // smaps counts no guard page as resident: scan even when it reports nothing
                addGuards(b, scan(task, m, PageRuns.guards()));
            }
            if (kind.savesPages() && m.mayHavePages()) {
                // pages without PROT_READ too: the sink reads what process_vm_readv cannot through /proc/PID/mem
                // private anonymous memory: its PFNs are kept for the children (read now, before this process's
                // pages are: reading pins them, which un-shares a copy-on-write page) and compared with the parent's
                boolean eligible = kind == MappingKind.ANON_PRIVATE && CowSharing.eligible(b);
                long[] parentPfns = eligible && ppid > 0 ? cow.twinPfns(ppid, b) : null;
                boolean pfns = eligible && (parent || parentPfns != null);
                PageRuns sharedRuns = parentPfns != null ? new PageRuns(kind) : null;
                List<PageRuns.Run> runs = pfns ? scanShared(task, m, new PageRuns(kind), parentPfns, sharedRuns,
                        parent)
                        : scan(task, m, new PageRuns(kind));
                if (sharedRuns != null) {
                    CowSharing.addRuns(b, sharedRuns.finish());
                }
                for (PageRuns.Run run : runs) {
                    long offset = ctx.pages().save(run.start(), run.length());
                    b.addPages(PageRun.newBuilder().setStart(run.start()).setLength(run.length())
                            .setPagesOffset(offset));
                }
            }
            write(ctx, written, b);
        }
        cow.remember(task.pid().value(), written);
    }

    /**
     * @return {@code flags} sorted (the record's order), made once per set: the mappings of a process share a few
     *     flag sets (core parses each distinct VmFlags line once), and a stream sort per mapping was a noticeable part
     *     of a small dump's frozen time, run interpreted (issue 13)
     */
    private List<String> sortedFlags(java.util.Set<String> flags) {
        List<String> sorted = sortedFlagSets.get(flags);
        if (sorted == null) {
            String[] a = flags.toArray(new String[0]);
            java.util.Arrays.sort(a);
            sorted = List.of(a);
            sortedFlagSets.put(flags, sorted);
        }
        return sorted;
    }

    private static void write(MemoryDumpContext ctx, List<VmaEntry> written, VmaEntry.Builder b)
            throws CryoException {
        VmaEntry v = b.build();
        ctx.records().write(v);
        written.add(v);
    }

    /**
     * As {@link #scan}, also keeping the mapping's PFNs for the children ({@link CowSharing#keepPfns}) and, given
     * the parent's PFNs of the same range, adding to {@code shared} the pages that are the parent's own pages.
     */
    private List<PageRuns.Run> scanShared(RemoteTask task, Mapping m, PageRuns runs, long[] parentPfns,
                                          PageRuns shared, boolean keep) throws CryoException {
        long[] pfns = new long[(int) ((m.end() - m.start()) / MemorySyscalls.PAGE_SIZE)];
        for (long at = m.start(); at < m.end(); at += SCAN_CHUNK) {
            long to = Math.min(m.end(), at + SCAN_CHUNK);
            long[] entries = task.pagemap(at, to);
            runs.add(entries, at);
            int from = (int) ((at - m.start()) / MemorySyscalls.PAGE_SIZE);
            CowSharing.pfns(entries, pfns, from);
            if (parentPfns != null) {
                CowSharing.addShared(shared, pfns, parentPfns, from, entries.length, m.start());
            }
        }
        if (keep) {
            cow.keepPfns(task.pid().value(), m.start(), pfns);
        }
        return runs.finish();
    }

    private static void addGuards(VmaEntry.Builder b, List<PageRuns.Run> guards) {
        for (PageRuns.Run g : guards) {
            b.addGuards(GuardRun.newBuilder().setStart(g.start()).setLength(g.length()));
        }
    }

    /** Refuses SysV shared memory when the sysv-shm plugin, which runs first and keeps it, is not enabled. */
    static void checkNotSysV(Pid pid, String comm, Mapping m) throws CryoException {
        if (m.name().startsWith("/SYSV")) {
            throw new CryoException(CryoException.Category.UNSUPPORTED, "memory/SYSV_SHM",
                    String.format("dump refused: pid %s \"%s\" has SysV shared memory segment %s (shmid inode %d) "
                            + "attached at %x-%x; the sysv-shm plugin, which keeps SysV shared memory, is not enabled", pid, comm,
                            m.name().replace(MappingKind.DELETED, ""), m.inode(), m.start(), m.end()),
                    "enable the sysv-shm plugin (plugins.enabled/plugins.disabled in the config)");
        }
    }

    /** Refuses a file mapping whose file is gone: its unsaved pages could not be mapped again. */
    static void checkNotDeleted(Pid pid, String comm, Mapping m) throws CryoException {
        if (SharedMemoryDump.isMemfd(m.name()) && !m.shared()) {
            throw new CryoException(CryoException.Category.UNSUPPORTED, "memory/PRIVATE_MEMFD",
                    String.format("dump refused: pid %s \"%s\" maps %x-%x of memfd %s privately (MAP_PRIVATE); "
                            + "private mappings of a memfd are not supported yet (MAP_SHARED ones are)", pid, comm,
                            m.start(), m.end(), m.name().replace(MappingKind.DELETED, "")),
                    "map the memfd MAP_SHARED, or unmap it before dumping");
        }
        if (m.name().endsWith(MappingKind.DELETED)) {
            String path = m.name().substring(0, m.name().length() - MappingKind.DELETED.length());
            throw new CryoException(CryoException.Category.UNSUPPORTED, "memory/DELETED_FILE",
                    String.format("dump refused: pid %s \"%s\" maps %x-%x of %s, which was deleted (or is a memfd); "
                            + "mappings of deleted files are not supported yet", pid, comm, m.start(), m.end(), path));
        }
    }

    private long cachedFileSize(RemoteTask task, Mapping m) throws CryoException {
        String key = m.dev() + " " + m.inode() + " " + m.name();
        Long size = fileSizes.get(key);
        if (size == null) {
            size = fileSize(task, m);
            fileSizes.put(key, size);
        }
        return size;
    }

    private static long fileSize(RemoteTask task, Mapping m) throws CryoException {
        // map_files is the mapped file itself, even when the path now names another one
        Path mapped = task.procDir().resolve("map_files")
                .resolve(Long.toHexString(m.start()) + "-" + Long.toHexString(m.end()));
        try {
            return Files.size(mapped);
        } catch (IOException e) {
            try {
                return Files.size(Path.of(m.name()));
            } catch (IOException | RuntimeException e2) {
                throw new CryoException(CryoException.Category.KERNEL, "memory/FILE_STAT",
                        "dump failed: stat of " + m.name() + " mapped by pid " + task.pid() + " \"" + task.comm()
                                + "\" at " + m + " failed: " + e2, null, e2);
            }
        }
    }

    private static List<PageRuns.Run> scan(RemoteTask task, Mapping m, PageRuns runs) throws CryoException {
        for (long at = m.start(); at < m.end(); at += SCAN_CHUNK) {
            long to = Math.min(m.end(), at + SCAN_CHUNK);
            runs.add(task.pagemap(at, to), at);
        }
        return runs.finish();
    }

    @Override
    public void restore(MemoryRestoreContext ctx) throws CryoException {
        RemoteTask task = ctx.task();
        List<VmaEntry> vmas = ctx.records().read(VmaEntry.class);
        checkFiles(task.pid(), vmas, ctx.config());
        List<CowSharing.MapsLine> maps = CowSharing.ranges(vmas).isEmpty() ? List.of() : CowSharing.maps(task);
        try (FileOpener files = new FileOpener(task)) {
            List<VmaEntry> run = new java.util.ArrayList<>();
            String runKey = null;
            for (VmaEntry v : vmas) {
                String key = plainKey(v);
                if (key != null && key.equals(runKey)) {
                    run.add(v);
                    continue;
                }
                restorePlain(ctx, files, run);
                runKey = key;
                if (key != null) {
                    run.add(v);
                } else {
                    restoreOne(ctx, files, sharedRestore, ghosts, v, maps);
                }
            }
            restorePlain(ctx, files, run);
        }
    }

    /**
     * Consecutive mappings made the same plain way — private anonymous memory, or one file opened with the same
     * flags (no copy-on-write runs, no hugetlb page size, not a ghost, no name to set) — take no pointer in their
     * mmap and finishing calls, so a run of them is restored with batched calls
     * ({@link RemoteTask#syscallBatchRaw}: a process with 10,000 mappings stops tens of times, not tens of thousands,
     * issue 13).
     *
     * @return what a run shares ({@code ""} for anonymous memory, the open flags and path of a file), null for a
     *     mapping restored on its own ({@link #restoreOne})
     */
    private static String plainKey(VmaEntry v) {
        if (v.getCowRunsCount() != 0 || v.getHugetlbPageSize() != 0 || v.getGhost() || namedAnonymous(v)) {
            return null;
        }
        MappingKind kind = MappingKind.of(v.getKind());
        if (kind == MappingKind.ANON_PRIVATE) {
            return "";
        }
        return kind.fileBacked() ? openFlags(v, kind) + " " + v.getPath() : null;
    }

    /** How a mapped file is opened: read-write for a shared mapping that may write it back, else read-only. */
    private static long openFlags(VmaEntry v, MappingKind kind) {
        boolean rdwr = kind == MappingKind.FILE_SHARED
                && ((v.getProt() & PROT_WRITE) != 0 || v.getVmFlagsList().contains("mw") || v.getPagesCount() > 0);
        return rdwr ? O_RDWR : O_RDONLY;
    }

    private static boolean namedAnonymous(VmaEntry v) {
        return v.getName().startsWith("[anon:") && v.getName().endsWith("]");
    }

    /**
     * Restores {@code run} (consecutive mappings of one {@link #plainKey}, in image order) and empties it: the file
     * opened once (kept open by {@code files}), every mmap in one batch, then the pages, then every finishing call (protection, guards, advice, lock, seal) in a second batch, in the order
     * {@link #finishOne} makes them. Each call is checked as {@link RemoteTask#syscall} would, naming the mapping.
     */
    private static void restorePlain(MemoryRestoreContext ctx, FileOpener files, List<VmaEntry> run)
            throws CryoException {
        if (run.isEmpty()) {
            return;
        }
        RemoteTask task = ctx.task();
        MappingKind kind = MappingKind.of(run.get(0).getKind());
        long fd = kind.fileBacked() ? files.open(run.get(0).getPath(), openFlags(run.get(0), kind)) : -1;
        List<RemoteTask.Call> maps = new java.util.ArrayList<>(run.size());
        List<String> whats = new java.util.ArrayList<>(run.size());
        for (VmaEntry v : run) {
            long flags = MAP_FIXED_NOREPLACE | VmaFlags.mapFlags(v.getVmFlagsList(), v.getShared())
                    | (kind.fileBacked() ? 0 : MAP_ANONYMOUS);
            maps.add(new RemoteTask.Call(Syscall.MMAP, v.getStart(), v.getEnd() - v.getStart(), mapProt(v), flags,
                    fd, kind.fileBacked() ? v.getFileOffset() : 0));
            whats.add("mmap(" + describe(v) + ")");
        }
        long[] got = task.syscallBatchRaw(maps);
        for (int i = 0; i < got.length; i++) {
            VmaEntry v = run.get(i);
            if (got[i] < 0 && got[i] > -4096) {
                // the mappings of the batch that were made are left to the failed restore, which kills the process
                throw failed(task, whats.get(i), got[i]);
            }
            if (got[i] != v.getStart()) {
                task.syscallRaw(Syscall.MUNMAP, got[i], v.getEnd() - v.getStart());
                throw new CryoException(CryoException.Category.KERNEL, "memory/MAP_MISPLACED",
                        String.format("restore failed: %s in pid %s placed the mapping at %x instead of %x "
                                + "(kernel without MAP_FIXED_NOREPLACE?)", whats.get(i), task.pid(), got[i],
                                v.getStart()));
            }
        }
        for (VmaEntry v : run) {
            for (PageRun r : v.getPagesList()) {
                ctx.pages().load(r.getStart(), r.getLength(), r.getPagesOffset());
            }
        }
        List<RemoteTask.Call> finish = new java.util.ArrayList<>();
        List<String> finishWhats = new java.util.ArrayList<>();
        List<Boolean> strict = new java.util.ArrayList<>();
        for (VmaEntry v : run) {
            finishCalls(v, MappingKind.of(v.getKind()), mapProt(v), finish, finishWhats, strict);
        }
        long[] r = task.syscallBatchRaw(finish);
        for (int i = 0; i < r.length; i++) {
            if (strict.get(i) && r[i] < 0 && r[i] > -4096) {
                throw failed(task, finishWhats.get(i), r[i]);
            }
        }
        run.clear();
    }

    /** The protection a mapping is made with: writable while its pages are loaded. */
    private static int mapProt(VmaEntry v) {
        return v.getPagesCount() > 0 ? v.getProt() | PROT_READ | PROT_WRITE : v.getProt();
    }

    /** The failure {@link RemoteTask#syscall} reports, for a call of a batch. */
    private static CryoException failed(RemoteTask task, String what, long result) {
        int errno = (int) -result;
        return new CryoException(CryoException.Category.KERNEL, "memory/SYSCALL_FAILED", what + " in pid "
                + task.pid() + " \"" + task.comm() + "\" failed: " + Errno.describe(errno), null, errno, null);
    }

    /** The mappings with pages shared copy-on-write with the parent at dump ({@link CowSharing}). */
    @Override
    public List<Range> inheritedRanges(dev.cryo.api.ImageSource records) throws CryoException {
        return CowSharing.ranges(records.read(VmaEntry.class));
    }

    // ---- LifecycleListener: the shared-memory state spans processes, so it is reset and released per command.
    // PluginHost creates one instance per extension class, so this is the same object core calls as MemoryHandler.

    /** Forgets the shared memory of an earlier dump (an instance serves one command; this is only a guard). */
    @Override
    public void preDump(LifecycleEvent event) {
        shared.reset();
        cow.reset();
        fileSizes.clear();
        sortedFlagSets.clear();
    }

    @Override
    public void preRestore(LifecycleEvent event) {
        // not sharedRestore.close(): MemfdHandler.checkRestore registered the memfds of the fds (finishRestore of
        // the last command released the rest)
        ghosts.unlinkAll();
    }

    /**
     * Every process is rebuilt and still stopped: the memfds get their seals, the ghost files lose their temporary
     * names.
     */
    @Override
    public void postRestore(LifecycleEvent event) throws CryoException {
        ghosts.unlinkAll();
        sharedRestore.applySeals();
    }

    /**
     * The restore ended, rebuilt or failed: close cryo's memfds (restored processes hold the memory through their
     * mappings; after a failure they are being killed).
     */
    @Override
    public void finishRestore() {
        sharedRestore.close();
        ghosts.unlinkAll();
    }

    /** Checks every mapped file before anything is injected. */
    private static void checkFiles(Pid pid, List<VmaEntry> vmas, Config config) throws CryoException {
        boolean skip = config.isSet(SKIP_SIZE_CHECK);
        for (VmaEntry v : vmas) {
            if (!MappingKind.of(v.getKind()).fileBacked()) {
                continue;
            }
            if (v.getGhost()) {
                GhostMappings.check(pid, v);
                continue;
            }
            Optional<MappedFileCheck.FileState> now;
            try {
                now = MappedFileCheck.FileState.of(Path.of(v.getPath()));
            } catch (IOException | RuntimeException e) {
                throw new CryoException(CryoException.Category.KERNEL, "memory/FILE_STAT",
                        String.format("restore failed: stat of %s (mapped at %x-%x in pid %s) failed: %s",
                                v.getPath(), v.getStart(), v.getEnd(), pid, e), null, e);
            }
            MappedFileCheck.check(pid, v, now, skip);
        }
    }

    private static void restoreOne(MemoryRestoreContext ctx, FileOpener files, SharedMemoryRestore sharedRestore,
                                   GhostMappings ghosts, VmaEntry v, List<CowSharing.MapsLine> maps)
            throws CryoException {
        RemoteTask task = ctx.task();
        MappingKind kind = MappingKind.of(v.getKind());
        long start = v.getStart();
        long len = v.getEnd() - v.getStart();
        int finalProt = v.getProt();
        boolean hasPages = v.getPagesCount() > 0;
        int mapProt = hasPages ? finalProt | PROT_READ | PROT_WRITE : finalProt;
        if (v.getCowRunsCount() > 0) {
            if (CowSharing.inherited(maps, v.getStart(), v.getEnd())) {
                // forked from the restored parent: its pages are here, shared; only what differs is written
                CowSharing.restoreInherited(ctx, v, mapProt);
                finishOne(task, v, kind, mapProt);
                return;
            }
            if (CowSharing.overlaps(maps, v.getStart(), v.getEnd())) {
                task.syscall("munmap(" + describe(v) + ", not as inherited)", Syscall.MUNMAP, start, len);
            }
        }
        long flags = MAP_FIXED_NOREPLACE | VmaFlags.mapFlags(v.getVmFlagsList(), v.getShared());
        long fd = -1;
        long offset = 0;
        if (kind.fileBacked()) {
            String path = v.getGhost() ? ghosts.prepare(task.pid(), v).toString() : v.getPath();
            fd = files.open(path, openFlags(v, kind));
            offset = v.getFileOffset();
        } else if (v.getShmemKey().isEmpty()) {
            flags |= MAP_ANONYMOUS;
            if (v.getHugetlbPageSize() > 0) {
                flags |= HugetlbMemory.mapFlags(v.getHugetlbPageSize());
            }
        }
        String what = "mmap(" + describe(v) + ")";
        long mapFlags = flags;
        long mapFd = fd;
        long mapOffset = offset;
        HugetlbMemory.MapCall map = kind == MappingKind.ANON_SHARED && !v.getShmemKey().isEmpty()
                ? () -> sharedRestore.map(task, v, mapProt, mapFlags)
                : () -> task.syscall(what, Syscall.MMAP, start, len, mapProt, mapFlags, mapFd, mapOffset);
        long got = v.getHugetlbPageSize() > 0 ? HugetlbMemory.map(task, v, map) : map.run();
        if (got != start) {
            // a kernel without MAP_FIXED_NOREPLACE (< 4.17) treats it as a hint
            task.syscallRaw(Syscall.MUNMAP, got, len);
            throw new CryoException(CryoException.Category.KERNEL, "memory/MAP_MISPLACED",
                    String.format("restore failed: %s in pid %s placed the mapping at %x instead of %x "
                            + "(kernel without MAP_FIXED_NOREPLACE?)", what, task.pid(), got, start));
        }
        for (PageRun run : v.getPagesList()) {
            ctx.pages().load(run.getStart(), run.getLength(), run.getPagesOffset());
        }
        finishOne(task, v, kind, mapProt);
    }

    /** After the contents: the final protection, guards, advice, name, lock and seal. */
    private static void finishOne(RemoteTask task, VmaEntry v, MappingKind kind, int mapProt) throws CryoException {
        List<RemoteTask.Call> calls = new java.util.ArrayList<>();
        List<String> whats = new java.util.ArrayList<>();
        List<Boolean> strict = new java.util.ArrayList<>();
        finishCalls(v, kind, mapProt, calls, whats, strict);
        // one by one: a call's failure stops the ones after it, as the calls of a mapping always did; the name (a
        // pointer into the scratch area) comes after the advice and before lock and seal
        int beforeLock = calls.size() - lockAndSealCount(v);
        for (int i = 0; i < calls.size(); i++) {
            if (i == beforeLock) {
                nameAnonymous(task, v, kind);
            }
            RemoteTask.Call c = calls.get(i);
            if (strict.get(i)) {
                task.syscall(whats.get(i), c.call(), c.args());
            } else {
                task.syscallRaw(c.call(), c.args());
            }
        }
        if (beforeLock == calls.size()) {
            nameAnonymous(task, v, kind);
        }
    }

    private static void nameAnonymous(RemoteTask task, VmaEntry v, MappingKind kind) throws CryoException {
        if (kind == MappingKind.ANON_PRIVATE && namedAnonymous(v)) {
            String name = v.getName().substring("[anon:".length(), v.getName().length() - 1);
            long addr = task.putScratchString(0, name);
            task.syscallRaw(Syscall.PRCTL, PR_SET_VMA, PR_SET_VMA_ANON_NAME, v.getStart(), v.getEnd() - v.getStart(),
                    addr);
        }
    }

    /**
     * The calls that finish a mapping after its contents, in order — final protection, guards (before mlock: a locked
     * range takes no guard), advice, then mlock and mseal (a sealed mapping cannot be changed) — without the name of a
     * named anonymous mapping, which takes a pointer ({@link #finishOne} makes it). {@code strict}: a failure fails
     * the restore (best-effort advice is not).
     */
    private static void finishCalls(VmaEntry v, MappingKind kind, int mapProt, List<RemoteTask.Call> calls,
                                    List<String> whats, List<Boolean> strict) {
        long start = v.getStart();
        long len = v.getEnd() - v.getStart();
        int finalProt = v.getProt();
        if (mapProt != finalProt) {
            add(calls, whats, strict, "mprotect(" + describe(v) + ")", true, Syscall.MPROTECT, start, len, finalProt);
        }
        for (GuardRun g : v.getGuardsList()) {
            add(calls, whats, strict, String.format("madvise(%x-%x of %s, MADV_GUARD_INSTALL)", g.getStart(),
                    g.getStart() + g.getLength(), describe(v)), true, Syscall.MADVISE, g.getStart(), g.getLength(),
                    MADV_GUARD_INSTALL);
        }
        for (VmaFlags.Advice a : VmaFlags.advices(v.getVmFlagsList(), kind)) {
            add(calls, whats, strict, "madvise(" + describe(v) + ", " + a.name() + ")", a.strict(), Syscall.MADVISE,
                    start, len, a.advice());
        }
        long lock = VmaFlags.mlockFlags(v.getVmFlagsList());
        if (lock >= 0) {
            add(calls, whats, strict, "mlock2(" + describe(v) + (lock != 0 ? ", MLOCK_ONFAULT)" : ")"), true,
                    Syscall.MLOCK2, start, len, lock);
        }
        if (v.getVmFlagsList().contains(VmaFlags.SEALED)) {
            add(calls, whats, strict, "mseal(" + describe(v) + ")", true, Syscall.MSEAL, start, len, 0);
        }
    }

    /** How many of {@link #finishCalls}' calls are mlock and mseal (the last ones). */
    private static int lockAndSealCount(VmaEntry v) {
        return (VmaFlags.mlockFlags(v.getVmFlagsList()) >= 0 ? 1 : 0)
                + (v.getVmFlagsList().contains(VmaFlags.SEALED) ? 1 : 0);
    }

    private static void add(List<RemoteTask.Call> calls, List<String> whats, List<Boolean> strict, String what,
                            boolean isStrict, Syscall call, long... args) {
        calls.add(new RemoteTask.Call(call, args));
        whats.add(what);
        strict.add(isStrict);
    }

    /**
     * {@code 7f00-7f10 r-xp /usr/lib/libc.so.6}, for messages. Built for every mapping a restore maps (a batch names
     * each call), so without {@code String.format}: 10,000 of them were tens of milliseconds.
     */
    static String describe(VmaEntry v) {
        int p = v.getProt();
        return Long.toHexString(v.getStart()) + '-' + Long.toHexString(v.getEnd()) + ' '
                + ((p & PROT_READ) != 0 ? 'r' : '-') + ((p & PROT_WRITE) != 0 ? 'w' : '-')
                + ((p & PROT_EXEC) != 0 ? 'x' : '-') + (v.getShared() ? 's' : 'p') + ' '
                + (v.getName().isEmpty() ? "[anon]" : v.getName());
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(VmaEntry.getDescriptor());
    }

    /**
     * Opens mapped files inside the task, keeping the last one open so that the consecutive mappings of one file
     * (a library has four or five) cost one {@code openat} and one {@code close}.
     */
    private static final class FileOpener implements AutoCloseable {
        private final RemoteTask task;
        private String path;
        private long flags;
        private long fd = -1;

        FileOpener(RemoteTask task) {
            this.task = task;
        }

        long open(String path, long flags) throws CryoException {
            if (fd >= 0 && path.equals(this.path) && flags == this.flags) {
                return fd;
            }
            close();
            long addr = task.putScratchString(0, path);
            fd = task.syscall("openat(" + path + ")", Syscall.OPENAT, AT_FDCWD, addr, flags | O_CLOEXEC, 0);
            this.path = path;
            this.flags = flags;
            return fd;
        }

        @Override
        public void close() throws CryoException {
            if (fd >= 0) {
                long f = fd;
                fd = -1;
                task.syscall("close(" + f + ": " + path + ")", Syscall.CLOSE, f);
            }
        }
    }
}
