package dev.cryo.core.dump;

import com.google.protobuf.Message;
import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.ExternalPeerHandler;
import dev.cryo.api.ExternalReference;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdHandler;
import dev.cryo.api.FdHolder;
import dev.cryo.api.FdInfo;
import dev.cryo.api.HostKernel;
import dev.cryo.api.ImageSink;
import dev.cryo.api.LifecycleEvent;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.Mapping;
import dev.cryo.api.MemoryDumpContext;
import dev.cryo.api.MemoryHandler;
import dev.cryo.api.ObjectDumpContext;
import dev.cryo.api.ObjectId;
import dev.cryo.api.PageSink;
import dev.cryo.api.Pid;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.Spi;
import dev.cryo.api.TargetFd;
import dev.cryo.core.DumpRequest;
import dev.cryo.core.PipelineStats;
import dev.cryo.core.Progress;
import dev.cryo.core.WarmUp;
import dev.cryo.core.config.ConfigKeys;
import dev.cryo.core.image.EnvelopeSink;
import dev.cryo.core.image.Envelopes;
import dev.cryo.core.image.FileType;
import dev.cryo.core.image.ImageFileNames;
import dev.cryo.core.image.PageBuffers;
import dev.cryo.core.image.ImageDir;
import dev.cryo.core.image.RecordWriter;
import dev.cryo.core.image.proto.CoreEntry;
import dev.cryo.core.image.proto.FdRef;
import dev.cryo.core.image.proto.FdinfoEntry;
import dev.cryo.core.image.proto.InventoryEntry;
import dev.cryo.core.image.proto.PluginRef;
import dev.cryo.core.image.proto.PstreeEntry;
import dev.cryo.core.image.proto.StatsEntry;
import dev.cryo.core.linux.FileLocks;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.Netlink;
import dev.cryo.core.linux.LiveTask;
import dev.cryo.core.linux.ProcFs;
import dev.cryo.core.linux.StopRequest;
import dev.cryo.core.linux.TracerThread;
import dev.cryo.core.plugin.HandlerRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.TreeSet;

/**
 * The dump pipeline (docs/architecture.md, "Dump pipeline") for a tree of multi-threaded processes. Runs entirely on one
 * {@link TracerThread}. Any failure after the freeze resumes the process exactly as it was and discards the
 * partial image.
 */
public final class Dumper {
    private static final Logger LOG = LoggerFactory.getLogger(Dumper.class);

    private final HandlerRegistry plugins;
    private final Config config;
    private final String cryoVersion;
    private final dev.cryo.core.linux.HostView kernel = new dev.cryo.core.linux.HostView();
    /** Shared by the page sinks of every process of one dump: direct buffers are costly to allocate. */
    private final PageBuffers pageBuffers = new PageBuffers(BatchedPageSink.BUFFERS);
    /** Writes the page batches of every process of one dump to their files. */
    private final java.util.concurrent.ExecutorService pagesWriterThread = BatchedPageSink.writerThread();
    /** The root's parent: the process that started the tree (a shell...), for "inherited fd" hints. */
    private int starterPid;
    /** In a dry run ({@link #check}): every refusal found so far; {@code null} in a dump, where the first throws. */
    private List<CryoException> problems;
    /** The statistics of the last run (a dry run's counts: what a dump would have written). */
    private StatsEntry lastStats;
    /** Pages of the mappings handed to the memory handlers so far (CRIU's pages_scanned). */
    private long pagesScanned;
    /** In a dry run: the fds and outside references refused, with where they are ({@code cryo graph -t}). */
    private final List<Refused> refused = new ArrayList<>();
    private Progress progress = Progress.NONE;
    /** In a dry run: keep the scratch image (pstree, records, inventory) for the caller instead of deleting it. */
    private boolean keepScratch;

    /** One step of the pipeline that may refuse. */
    private interface Step {
        void run() throws CryoException;
    }

    /** Tells the progress display of the page bytes read (a class, not {@code progress::advance}: see keep). */
    private final java.util.function.LongConsumer pagesRead = new java.util.function.LongConsumer() {
        @Override
        public void accept(long bytes) {
            progress.advance(bytes);
        }
    };

    public Dumper(HandlerRegistry plugins, Config config, String cryoVersion) {
        this.plugins = plugins;
        this.config = config;
        this.cryoVersion = cryoVersion;
    }

    /**
     * The dry run of {@code cryo check -t PID}: the dump pipeline on the live tree — freeze, look at every process,
     * mapping, fd, reference and object exactly as a dump does — collecting every refusal instead of stopping at
     * the first, then releasing the tree as it was. Nothing is kept: records go to a scratch directory that is
     * deleted, pages are counted, not read; handlers see {@code dryRun()} and change nothing lasting. The tree is
     * stopped for the length of the look (no page copy), like a dump's freeze.
     *
     * @param root    the tree's root
     * @param scratch a directory for the records handlers write (created; deleted again before this returns)
     * @return the refusals a dump would meet (empty: a dump would succeed) and the counts a dump would write
     * @throws CryoException what stops even a dry run (no such process, a kernel call failing)
     */
    public CheckReport check(Pid root, Path scratch) throws CryoException {
        return check(root, scratch, false);
    }

    /**
     * {@link #check}, and with {@code keep} the scratch directory is left as an image of what a dump would have
     * written (records, {@code pstree.img}, {@code inventory.img}; no pages) for {@code cryo graph -t}: the caller
     * deletes it. Refused fds have no record there; {@link CheckReport#refused} says where they are.
     */
    public CheckReport check(Pid root, Path scratch, boolean keep) throws CryoException {
        problems = new ArrayList<>();
        keepScratch = keep;
        try {
            dump(new DumpRequest(root, scratch, DumpRequest.After.LEAVE_RUNNING));
        } catch (CryoException e) {
            if (!refusal(e)) {
                throw e;
            }
            problems.add(e); // a refusal before or during the freeze: the only one that can be known
        }
        return new CheckReport(root, List.copyOf(problems), Optional.ofNullable(lastStats), List.copyOf(refused));
    }

    /**
     * A refused fd ({@code to} empty) or a refused reference from the object an fd holds to {@code to}, outside the
     * tree.
     *
     * @param pid     the process holding the fd
     * @param fd      the fd
     * @param target  what the fd is on ({@code /proc/PID/fd/N}'s link), or the reference's description
     * @param to      for a reference: the object outside the tree
     * @param problem the refusal
     */
    public record Refused(int pid, int fd, String target, Optional<ObjectId> to, CryoException problem) {
    }

    /**
     * What {@link #check} found.
     *
     * @param root     the tree's root
     * @param problems every refusal a dump would meet, in pipeline order (processes, then references, then objects)
     * @param stats    what a dump would have written (page bytes counted, not read), when the look completed
     * @param refused  the refusals that are about one fd or one outside reference, with their place
     */
    public record CheckReport(Pid root, List<CryoException> problems, Optional<StatsEntry> stats,
                              List<Refused> refused) {
    }

    /** @return whether {@code e} is a reason to refuse a dump (collected in a dry run), not a failure of cryo */
    private static boolean refusal(CryoException e) {
        return e.category() == Category.UNSUPPORTED || e.category() == Category.CONFLICT
                || e.code().equals("core/EXTERNAL_UNMATCHED");
    }

    private boolean dryRun() {
        return problems != null;
    }

    /** Runs {@code step}; in a dry run a refusal is recorded and the pipeline goes on. */
    private boolean attempt(Step step) throws CryoException {
        try {
            step.run();
            return true;
        } catch (CryoException e) {
            return keep(e);
        }
    }

    /*
     * The steps of the frozen window call keep in their own catch instead of going through attempt with a lambda:
     * the first run of each lambda call site links it (a bootstrap method call, ~0.3 ms on the development machine,
     * issue 13), and a small dump's window ran about thirty of them.
     */

    /** What {@link #attempt} does with a step's failure: a dry run keeps a refusal and goes on (false); else throws. */
    private boolean keep(CryoException e) throws CryoException {
        if (!dryRun() || !refusal(e)) {
            throw e;
        }
        problems.add(e);
        return false;
    }

    /** @return the statistics of the last dump or dry run, as written to {@code stats-dump.img}, when it got so far */
    public Optional<StatsEntry> lastStats() {
        return Optional.ofNullable(lastStats);
    }

    /** Sets the display that hears of the dump's phases and page bytes ({@link Progress#NONE} by default). */
    public Dumper progress(Progress p) {
        progress = p;
        return this;
    }

    /** Runs the dump on a fresh tracer thread. */
    public void dump(DumpRequest request) throws CryoException {
        try (TracerThread tracer = new TracerThread("cryo-tracer")) {
            StopRequest.guard(() -> tracer.call(() -> {
                run(request);
                return null;
            }), 10);
        } finally {
            pagesWriterThread.shutdownNow();
            progress.finished();
        }
    }

    /**
     * Pays, before the tree stops, what the first use of the pipeline costs ({@link WarmUp}): the pipeline's classes,
     * the generated classes of core's records and of the memory handlers' (every process has memory), the writer
     * thread. The frozen time of a small tree is mostly such first-use costs otherwise. The fd and peer handlers'
     * records are not warmed: most dumps use few of them, and warming all of them cost more than the whole dump of a
     * small process (measured with bench/targets.sh, issue 13).
     */
    private void warmUp(Set<FdHandler> fdHandlers) throws CryoException {
        FileType.values();
        WarmUp.dump();
        List<dev.cryo.api.ResourceHandler> handlers = new ArrayList<>(plugins.memoryHandlers());
        handlers.addAll(fdHandlers); // those that claimed an fd of the tree before the freeze: the others may cost
        for (dev.cryo.api.ResourceHandler h : handlers) { // more than a small dump
            WarmUp.messagesOf(h.recordTypes().stream().map(d -> d.getFile()).distinct().toList(),
                    h.getClass().getClassLoader());
        }
        pagesWriterThread.submit(() -> { });
        if (!dryRun()) {
            pageBuffers.get(0, 1); // the first page buffer (1 MiB, zero-filled when allocated) before the freeze
        }
    }

    /** The listeners whose preDump ran: they hear of a failure. */
    private final List<LifecycleListener> told = new ArrayList<>();

    private void run(DumpRequest request) throws CryoException {
        try {
            runPipeline(request);
        } catch (CryoException | RuntimeException failure) {
            CryoException cause = failure instanceof CryoException c ? c
                    : new CryoException(Category.INTERNAL, "core/INTERNAL", "dump failed: " + failure, null, failure);
            LifecycleEvent event = new LifecycleEvent(request.imageDir(), request.root(), config);
            for (LifecycleListener l : told) {
                try {
                    l.onFailure(event, cause);
                } catch (RuntimeException e) {
                    LOG.warn("plugin {}: onFailure failed: {}", plugins.pluginIdOf(l), e.toString());
                }
            }
            throw failure;
        }
    }

    private void runPipeline(DumpRequest request) throws CryoException {
        PipelineStats stats = new PipelineStats(dryRun() ? "check" : "dump").progress(progress);
        int rootPid = request.root().value();
        String comm = ProcessChecks.checkDumpable(rootPid);
        try {
            starterPid = ProcFs.stat(rootPid).ppid();
        } catch (CryoException e) {
            starterPid = 0;
        }
        LifecycleEvent event = new LifecycleEvent(request.imageDir(), request.root(), config, dryRun());
        for (LifecycleListener l : plugins.lifecycleListeners()) {
            told.add(l);
            l.preDump(event);
        }
        Set<FdHandler> claiming = new LinkedHashSet<>();
        List<Integer> livePids = List.of();
        if (!dryRun()) {
            livePids = refuseUnhandledFdsEarly(rootPid, claiming);
        }
        warmUp(claiming);
        boolean fsync = config.isSet(ConfigKeys.FSYNC);
        ImageDir image = ImageDir.create(request.imageDir(), dryRun() || config.isSet("overwrite-images"),
                fsync && !dryRun());
        stats.counts().setFsync(fsync);
        FrozenTree tree = null;
        boolean complete = false;
        SpaceCheck space = null;
        try {
            if (!dryRun()) {
                // the files of the processes the tree has now, created before the freeze on another thread: after it
                // only a process born meanwhile has its own made (one no process took goes with the inventory)
                image.prepare(processFiles(livePids));
                space = SpaceCheck.before(rootPid, image.path()); // before the tree stops
            }
            FileLockDump.readHostLocks(pagesWriterThread); // starts the kernel's wait before the freeze (see there)
            long t0 = System.nanoTime();
            stats.begin("freeze");
            stats.frozen();
            tree = FrozenTree.freeze(rootPid, comm);
            if (!dryRun()) {
                image.prepare(processFiles(tree.livePids())); // those not prepared yet, on another thread
            }
            Future<List<FileLocks.Lock>> hostLocks = FileLockDump.readHostLocks(pagesWriterThread);
            int tasks = 0;
            for (FrozenProcess p : tree.processes) {
                tasks += p.threads.size();
            }
            if (progress != Progress.NONE) {
                progress.total(tree.processes.stream().mapToLong(p -> ProcFs.anonymousBytes(p.pid)).sum());
            }
            LOG.info("froze {} processes, {} threads under pid {} in {} us", tree.processes.size(), tasks, rootPid,
                    (System.nanoTime() - t0) / 1000);
            for (LifecycleListener l : plugins.lifecycleListeners()) {
                l.postFreeze(event);
            }
            for (FrozenProcess p : tree.processes) {
                p.prepareInjection();
            }
            FrozenTree frozen = tree;
            try {
                TreeLayout.check(frozen);
            } catch (CryoException e) {
                keep(e);
            }
            try {
                CloneSharing.check(frozen);
            } catch (CryoException e) {
                keep(e);
            }
            stats.end();
            stats.counts().setProcesses(tree.processes.size()).setThreads(tasks);
            try {
                FileLockDump.collect(frozen, config, hostLocks);
            } catch (CryoException e) {
                keep(e);
            }

            Set<String> usedPlugins = new TreeSet<>();
            Collected fds = new Collected();
            SharedFiles shared = new SharedFiles();
            FdOwners owners = new FdOwners(tree);
            long savedBytes = 0;
            for (FrozenProcess p : tree.processes) {
                if (p.isZombie()) {
                    continue;
                }
                stats.begin("core");
                long tc = System.nanoTime();
                collectCore(p, image);
                stats.begin("memory");
                long tm = System.nanoTime();
                try {
                    savedBytes += dumpMemory(p.task, p.maps, image, usedPlugins, forkRelated(tree, p));
                } catch (CryoException e) {
                    keep(e);
                }
                stats.begin("fds");
                long tf = System.nanoTime();
                int fdCount = p.fdTableOf != 0 ? emptyFdTable(p.task, image)
                        : collectFds(p.task, image, usedPlugins, fds, shared, owners);
                stats.end();
                stats.counts().setMappings(stats.counts().getMappings() + p.maps.size())
                        .setFds(stats.counts().getFds() + fdCount);
                LOG.debug("{}: core state {} ms, memory {} ms, fds {} ms", p.who(), (tm - tc) / 1_000_000,
                        (tf - tm) / 1_000_000, (System.nanoTime() - tf) / 1_000_000);
            }
            stats.begin("objects");
            checkClosure(fds, image, usedPlugins);
            dumpObjects(fds.handlers, image);
            if (dryRun()) {
                stats.end();
                stats.counts().setPagesBytes(savedBytes).setPagesScanned(pagesScanned);
                for (LifecycleListener l : plugins.lifecycleListeners()) {
                    l.postDump(event);
                }
                stats.begin("release");
                tree.release();
                stats.released();
                tree = null;
                lastStats = stats.finish();
                if (LOG.isInfoEnabled()) {
                    LOG.info("{}", PipelineStats.describe(lastStats));
                }
                if (keepScratch) {
                    writeTree(frozen, rootPid, usedPlugins, image); // for cryo graph -t
                } else {
                    image.discard();
                }
                return;
            }
            stats.begin("write");
            writeTree(tree, rootPid, usedPlugins, image);
            complete = true;
            stats.end();
            stats.counts().setPagesBytes(savedBytes).setPagesScanned(pagesScanned);
            LOG.debug("dumped {} processes under pid {}: {} MiB of pages in {} ms (kcmp calls: {})",
                    tree.processes.size(), rootPid, savedBytes >> 20, (System.nanoTime() - t0) / 1_000_000,
                    shared.kcmpCalls());
            for (LifecycleListener l : plugins.lifecycleListeners()) {
                l.postDump(event);
            }
            stats.begin("release");
            finish(request.after(), tree);
            stats.released();
            tree = null;
            stats.counts().setImageBytes(image.bytes());
            progress.total(savedBytes); // done: the estimate gives way to what was saved (100%)
            lastStats = stats.finish();
            PipelineStats.keep(image, ImageFileNames.STATS_DUMP, lastStats, LOG);
        } catch (CryoException | RuntimeException e) {
            if (!complete) {
                try {
                    image.discard();
                } catch (CryoException discardFailure) {
                    e.addSuppressed(discardFailure);
                }
                if (space != null && SpaceCheck.isNoSpace(e)) {
                    throw space.noSpace(e);
                }
            }
            throw e;
        } finally {
            if (tree != null) {
                tree.release();
            }
        }
    }

    /** {@code pstree.img} and the inventory, the last files of an image. */
    private void writeTree(FrozenTree tree, int rootPid, Set<String> usedPlugins, ImageDir image)
            throws CryoException {
        try (RecordWriter w = image.writer(ImageFileNames.PSTREE, FileType.PSTREE)) {
            for (FrozenProcess p : tree.processes) {
                PstreeEntry.Builder e = PstreeEntry.newBuilder().setPid(p.pid).setPpid(p.stat.ppid())
                        .setPgid(p.stat.pgrp()).setSid(p.stat.session()).setComm(p.comm)
                        .setTtyNr((int) p.stat.field(7));
                if (p.isZombie()) {
                    e.setZombie(true).setExitStatus(p.zombieStatus);
                }
                e.setFdTableOf(p.fdTableOf);
                for (FrozenProcess.FrozenThread t : p.threads) {
                    e.addThreads(t.tracee.tid());
                }
                w.write(e.build());
            }
        }
        InventoryEntry.Builder inv = InventoryEntry.newBuilder()
                .setFormatVersion(dev.cryo.core.image.ImageFormat.FORMAT_VERSION)
                .setCryoVersion(cryoVersion)
                .setSpiVersion(Spi.VERSION)
                .setRootPid(rootPid)
                .setKernel(kernelRelease())
                .setCreatedUnixMs(System.currentTimeMillis());
        for (String id : usedPlugins) {
            Optional<dev.cryo.core.plugin.PluginInfo> plugin = plugins.plugin(id);
            inv.addPlugins(PluginRef.newBuilder().setId(id)
                    .setVersion(plugin.isPresent() ? plugin.get().version() : "?"));
        }
        image.writeInventory(inv.build());
    }

    /** The core state of {@code p} (registers, signals, credentials...) into {@code core-PID.img}. */
    private void collectCore(FrozenProcess p, ImageDir image) throws CryoException {
        try {
            CoreEntry core = CoreCollector.collect(p);
            try (RecordWriter w = image.writer(ImageFileNames.core(p.task.pid()), FileType.CORE)) {
                w.write(core);
            }
        } catch (CryoException e) {
            keep(e);
        }
    }

    /**
     * The refusal of a mapping no memory plugin claims. The ring of an io_uring instance gets its own: no plugin can
     * checkpoint one (CRIU cannot either), so the fix is to run the program without io_uring.
     */
    static CryoException unsupportedMapping(LiveTask task, Mapping m) {
        if (m.name().equals("anon_inode:[io_uring]")) {
            return new CryoException(Category.UNSUPPORTED, "core/IO_URING", "dump refused: mapping " + m + " of "
                    + task.who() + " is the ring of an io_uring instance; requests in flight in the kernel cannot be"
                    + " checkpointed (by cryo or CRIU)",
                    "start the program with io_uring off: its own setting (MariaDB: --innodb-use-native-aio=0; "
                            + "QEMU: aio=threads) or, for every new program, `sysctl kernel.io_uring_disabled=2`");
        }
        return new CryoException(Category.UNSUPPORTED, "core/UNSUPPORTED_MAPPING", "dump refused: mapping " + m
                + " of " + task.who() + " is handled by no enabled memory plugin",
                "enable a plugin that provides a MemoryHandler (`cryo plugins` lists them, with their state)");
    }

    private static void finish(DumpRequest.After after, FrozenTree tree) {
        switch (after) {
            case KILL -> tree.kill();
            case LEAVE_RUNNING -> tree.release();
            case LEAVE_STOPPED -> tree.releaseStopped();
        }
    }

    // ---------------------------------------------------------------- memory

    /**
     * @return whether {@code p} has its parent or a child in the tree: then pages may still be shared copy-on-write
     *         between them since a fork, and the dump reads them without unsharing them ({@link BatchedPageSink})
     */
    private static boolean forkRelated(FrozenTree tree, FrozenProcess p) {
        for (FrozenProcess q : tree.processes) {
            if (q != p && !q.isZombie() && (q.stat.ppid() == p.pid || p.stat.ppid() == q.pid)) {
                return true;
            }
        }
        return false;
    }

    private long dumpMemory(LiveTask task, List<Mapping> maps, ImageDir image, Set<String> usedPlugins,
                            boolean forkRelated) throws CryoException {
        int pid = task.pid().value();
        Map<MemoryHandler, List<Mapping>> claimed = new LinkedHashMap<>();
        for (Mapping m : maps) {
            if (m.kernelSpecial()) {
                continue;
            }
            MemoryHandler owner = claimer(m);
            if (owner == null) {
                keep(unsupportedMapping(task, m));
                continue;
            }
            List<Mapping> mine = claimed.get(owner);
            if (mine == null) {
                mine = new ArrayList<>();
                claimed.put(owner, mine);
            }
            mine.add(m);
            pagesScanned += m.length() / dev.cryo.core.image.ImageFormat.PAGE_SIZE;
        }
        String pagesName = ImageFileNames.pages(task.pid());
        if (dryRun()) {
            return countMemory(task, claimed, image, pagesName);
        }
        long saved;
        try (var pagesWriter = image.pagesWriter(pagesName);
             RecordWriter mm = image.writer(ImageFileNames.mm(task.pid()), FileType.MM);
             BatchedPageSink sink = new BatchedPageSink(task.tracee(), pagesWriter, pagesName, pageBuffers,
                     pagesWriterThread, pagesRead).keepCopyOnWrite(forkRelated)) {
            for (Map.Entry<MemoryHandler, List<Mapping>> e : claimed.entrySet()) {
                MemoryHandler h = e.getKey();
                usedPlugins.add(plugins.pluginIdOf(h));
                h.dump(memoryContext(task, sink, new EnvelopeSink(h.kind(), mm)), e.getValue());
            }
            sink.close();
            saved = sink.savedBytes();
            if (LOG.isDebugEnabled()) { // not built otherwise: its String.format is ~2 ms of frozen time (JFR)
                LOG.debug("{}: pages {}", task.who(), sink.describeTimes());
            }
        } finally {
            task.close();
        }
        return saved;
    }

    /** A dry run's memory: every handler looks at its mappings as in a dump; pages are counted, never read. */
    private long countMemory(LiveTask task, Map<MemoryHandler, List<Mapping>> claimed, ImageDir image,
                             String pagesName) throws CryoException {
        long[] bytes = {0};
        PageSink counter = new PageSink() {
            @Override
            public long save(long address, long length) {
                long offset = bytes[0];
                bytes[0] += length;
                return offset;
            }

            @Override
            public String fileName() {
                return pagesName;
            }
        };
        try (RecordWriter mm = image.writer(ImageFileNames.mm(task.pid()), FileType.MM)) {
            for (Map.Entry<MemoryHandler, List<Mapping>> e : claimed.entrySet()) {
                MemoryHandler h = e.getKey();
                attempt(() -> h.dump(memoryContext(task, counter, new EnvelopeSink(h.kind(), mm)), e.getValue()));
            }
        } finally {
            task.close();
        }
        return bytes[0];
    }

    private MemoryDumpContext memoryContext(LiveTask task, PageSink sink, ImageSink records) {
        boolean dry = dryRun();
        return new MemoryDumpContext() {
            public RemoteTask task() {
                return task;
            }

            public PageSink pages() {
                return sink;
            }

            public ImageSink records() {
                return records;
            }

            public Config config() {
                return config;
            }

            public boolean dryRun() {
                return dry;
            }
        };
    }

    // ---------------------------------------------------------------- fds

    private static final class Collected {
        final Set<FdHandler> handlers = new LinkedHashSet<>();
        final Set<ObjectId> held = new LinkedHashSet<>();
        final List<Ref> references = new ArrayList<>();
    }

    /** A reference an fd's handler declared; {@code describe} makes its description once, if a message needs it. */
    private record Ref(ObjectId from, ObjectId to, java.util.function.Supplier<String> describe, Pid holder,
                       String comm, TargetFd fd) {
        String description() {
            return describe.get();
        }
    }

    /** @return a supplier that asks {@code make} once, at its first get(), and then answers what it made */
    private static java.util.function.Supplier<String> once(java.util.function.Supplier<String> make) {
        return new java.util.function.Supplier<>() {
            private String made;

            @Override
            public String get() {
                if (made == null) {
                    made = make.get();
                }
                return made;
            }
        };
    }

    /** @return the files the pipeline creates for each live process {@code pids}, in the order it creates them */
    private static List<String> processFiles(List<Integer> pids) {
        List<String> names = new ArrayList<>();
        for (int p : pids) {
            Pid pid = Pid.of(p);
            names.add(ImageFileNames.core(pid));
            names.add(ImageFileNames.pages(pid));
            names.add(ImageFileNames.mm(pid));
            names.add(ImageFileNames.fdinfo(pid));
        }
        return names;
    }

    /** @return how many fds the process holds */
    private int collectFds(LiveTask task, ImageDir image, Set<String> usedPlugins, Collected c,
                           SharedFiles shared, FdOwners owners) throws CryoException {
        int pid = task.pid().value();
        List<Integer> numbers = ProcFs.fds(pid);
        FdInfos infos = new FdInfos(kernel);
        try (RecordWriter w = image.writer(ImageFileNames.fdinfo(task.pid()), FileType.FDINFO);
             FdReadAhead ahead = FdReadAhead.start(pid, numbers, kernel, pagesWriterThread)) {
            for (int i = 0; i < numbers.size(); i++) {
                int n = numbers.get(i);
                int before = dryRun() ? problems.size() : 0;
                boolean collected;
                try {
                    collectFd(task, ahead.get(i, infos), ahead.owner(i), w, usedPlugins, c, shared, owners);
                    collected = true;
                } catch (CryoException e) {
                    collected = keep(e);
                }
                if (!collected) {
                    refused.add(new Refused(pid, n, ProcFs.fdLink(pid, n).orElse("?"), Optional.empty(),
                            problems.get(before)));
                }
            }
        }
        return numbers.size();
    }

    /**
     * The fd records of a process that shares another's fd table ({@link FrozenProcess#fdTableOf}): none, its fds
     * are that process's and are dumped there once.
     *
     * @return 0: no fd is counted twice
     */
    private static int emptyFdTable(LiveTask task, ImageDir image) throws CryoException {
        image.writer(ImageFileNames.fdinfo(task.pid()), FileType.FDINFO).close();
        return 0;
    }

    /** @param owner the fd's owner as {@link FdReadAhead} read it, or null (asked here) */
    private void collectFd(LiveTask task, FdInfo fd, FdOwners.Raw owner, RecordWriter w, Set<String> usedPlugins,
                           Collected c, SharedFiles shared, FdOwners owners) throws CryoException {
        int pid = task.pid().value();
        int n = fd.fd().value();
        boolean dry = dryRun();
        ProcessChecks.checkFd(task, n, fd.link());
        Optional<FdRef> same = shared.findOrAdd(pid, fd);
        if (same.isPresent()) {
            w.write(FdinfoEntry.newBuilder().setFd(n).setCloexec(fd.cloexec()).setSameAs(same.get()).build());
            return;
        }
        FdHandler handler = claimer(fd);
        if (handler == null) {
            throw unsupportedFd(task, fd);
        }
        Message record = handler.collect(new FdDumpContext() {
            public RemoteTask task() {
                return task;
            }

            public Config config() {
                return config;
            }

            public void holds(ObjectId object) {
                c.held.add(object);
            }

            public void references(ObjectId from, ObjectId to, String description) {
                references(from, to, () -> description);
            }

            @Override
            public void references(ObjectId from, ObjectId to, java.util.function.Supplier<String> description) {
                c.references.add(new Ref(from, to, once(description), task.pid(), task.comm(), fd.fd()));
            }

            public HostKernel kernel() {
                return kernel;
            }

            public boolean dryRun() {
                return dry;
            }
        }, fd);
        c.handlers.add(handler);
        usedPlugins.add(plugins.pluginIdOf(handler));
        FdinfoEntry.Builder e = FdinfoEntry.newBuilder().setFd(n).setCloexec(fd.cloexec())
                .setKind(handler.kind()).setRecord(dev.cryo.core.image.Envelopes.pack(record));
        Optional<dev.cryo.core.image.proto.FdOwnerEntry> fdOwner = owners.read(task, fd, owner);
        if (fdOwner.isPresent()) {
            e.setOwner(fdOwner.get());
        }
        w.write(e.build());
    }

    /**
     * Refuses, before anything is warmed, created or frozen, an fd that no enabled plugin claims or that is a
     * namespace: the most common refusal then answers at once, and the tree is never stopped for it. The fds are read
     * while the tree runs: the pipeline judges every fd again once the tree is frozen and stays the authority (an fd
     * opened meanwhile is refused there); a process or fd gone meanwhile is skipped here. Not in a dry run, which
     * reports every refusal in pipeline order. An io_uring fd is left to the pipeline, whose refusal of its ring
     * (core/IO_URING) says how to run the program without it.
     *
     * @param claiming gets the handlers that claimed an fd of the tree (their records are warmed up before the freeze)
     * @return the pids of the processes found alive (their image files are created before the freeze)
     */
    private List<Integer> refuseUnhandledFdsEarly(int rootPid, Set<FdHandler> claiming) throws CryoException {
        // its own view of the host: the pipeline's (cached /proc/net tables) must be read once the tree is frozen
        FdInfos infos = new FdInfos(new dev.cryo.core.linux.HostView());
        java.util.ArrayDeque<Integer> queue = new java.util.ArrayDeque<>(List.of(rootPid));
        Set<Integer> seen = new java.util.HashSet<>();
        // an fd of the same link and file type as one a handler claimed is taken as claimed without reading its
        // fdinfo (a process holding 10,000 fds of /dev/null: readlink + stat each, one fdinfo): a guess that can
        // only let an fd through, never refuse one — the frozen pipeline reads every fd in full and refuses it then
        Set<String> claimedShapes = new java.util.HashSet<>();
        List<Integer> live = new ArrayList<>();
        while (!queue.isEmpty()) {
            int pid = queue.poll();
            if (!seen.add(pid)) {
                continue;
            }
            String who;
            List<Integer> numbers;
            boolean zombie;
            try {
                ProcFs.Stat stat = ProcFs.stat(pid);
                who = "pid " + pid + " \"" + stat.comm() + "\"";
                zombie = stat.state() == 'Z' || stat.state() == 'X';
                numbers = ProcFs.fds(pid);
                queue.addAll(ProcFs.children(pid));
            } catch (CryoException e) {
                continue; // gone or a zombie: the freeze tells
            }
            for (int n : numbers) {
                String shape = infos.shape(pid, n);
                if (shape == null || claimedShapes.contains(shape)) {
                    continue; // closed meanwhile, or like one claimed
                }
                FdInfo fd;
                try {
                    fd = infos.read(pid, n);
                } catch (CryoException e) {
                    continue; // closed meanwhile
                }
                ProcessChecks.checkFd(who, n, fd.link());
                if (fd.link().equals("anon_inode:[io_uring]")) {
                    continue; // its ring's mapping is refused by the pipeline with its own code and fix
                }
                FdHandler claimer = claimer(fd);
                if (claimer == null) {
                    throw unsupportedFd(who, fd);
                }
                claiming.add(claimer);
                claimedShapes.add(shape);
            }
            if (!zombie) {
                live.add(pid); // a zombie has no image files
            }
        }
        return live;
    }

    /*
     * The first handler (in dispatch order) whose probe claims the resource, null when none. Loops, not one helper
     * taking the probe as a lambda: they run while the tree is frozen (see keep).
     */

    private FdHandler claimer(FdInfo fd) {
        for (FdHandler h : plugins.fdHandlers()) {
            if (h.probe(fd)) {
                return h;
            }
        }
        return null;
    }

    private MemoryHandler claimer(Mapping m) {
        for (MemoryHandler h : plugins.memoryHandlers()) {
            if (h.probe(m)) {
                return h;
            }
        }
        return null;
    }

    private CryoException unsupportedFd(LiveTask task, FdInfo fd) {
        return unsupportedFd(task.who(), fd);
    }

    private CryoException unsupportedFd(String who, FdInfo fd) {
        Optional<FdHolder> inherited = Optional.empty();
        if (starterPid > 0) {
            try {
                inherited = kernel.holders(fd.link()).stream().filter(h -> h.pid().value() == starterPid).findFirst();
            } catch (RuntimeException e) {
                LOG.debug("cannot tell whether fd {} was inherited: {}", fd.fd(), e.toString());
            }
        }
        return UnhandledFd.refusal(who, fd, kernel, inherited, plugins.disabledPlugins());
    }

    private void checkClosure(Collected c, ImageDir image, Set<String> usedPlugins) throws CryoException {
        RecordWriter external = null;
        Set<ObjectId> outside = new LinkedHashSet<>();
        try {
            for (Ref r : c.references) {
                if (c.held.contains(r.to())) {
                    continue;
                }
                outside.add(r.to());
                if (external == null) {
                    external = image.writer(ImageFileNames.EXTERNAL, FileType.EXTERNAL);
                }
                RecordWriter writer = external;
                int before = dryRun() ? problems.size() : 0;
                if (!attempt(() -> resolveOutside(r, writer, usedPlugins))) {
                    refused.add(new Refused(r.holder().value(), r.fd().value(), r.description(),
                            Optional.of(r.to()), problems.get(before)));
                }
            }
        } finally {
            if (external != null) {
                external.close();
            }
        }
        for (String value : config.values(ConfigKeys.EXTERNAL)) {
            attempt(() -> checkExternalMatches(value, outside));
        }
    }

    /** Offers a reference to an object outside the tree to the external peer handlers; refuses when none takes it. */
    private void resolveOutside(Ref r, RecordWriter external, Set<String> usedPlugins) throws CryoException {
        ExternalReference ref = new ExternalReference(r.from(), r.to(), r.holder(), r.comm(), r.fd(), r.description());
        for (ExternalPeerHandler h : plugins.externalPeerHandlers()) {
            Optional<Message> rec = h.accept(ref, config, kernel);
            if (rec.isPresent()) {
                external.write(Envelopes.wrap(h.kind(), rec.get()));
                usedPlugins.add(plugins.pluginIdOf(h));
                return;
            }
        }
        throw new CryoException(Category.UNSUPPORTED, "core/EXTERNAL_REFERENCE", "dump refused: " + r.from()
                + " (pid " + r.holder() + " \"" + r.comm() + "\", fd " + r.fd() + ") refers to " + r.to() + " "
                + r.description() + " outside the dumped tree",
                "dump the peer's tree too, or give the option of a plugin that takes such peers over"
                        + " (`cryo plugins --options` lists them)");
    }

    /**
     * Refuses an {@code --external} value that names no object outside the tree the tree refers to: a mistyped
     * inode would otherwise be accepted silently, and the resource it meant refused with a confusing message.
     */
    static void checkExternalMatches(String value, Set<ObjectId> outside) throws CryoException {
        if (outside.stream().noneMatch(o -> externalMatches(value.strip(), o))) {
            throw new CryoException(Category.USAGE, "core/EXTERNAL_UNMATCHED", "--external " + value
                    + " matches nothing: the tree refers to " + (outside.isEmpty() ? "no object outside it"
                    : "these objects outside it: " + String.join(", ", outside.stream().map(ObjectId::toString)
                            .toList())),
                    "remove --external " + value + ", or give an object as a refusal (or `cryo check -t PID`)"
                            + " names it");
        }
    }

    private static final java.util.regex.Pattern TYPE_ID = java.util.regex.Pattern.compile("([\\w./-]+):\\[(\\d+)]");

    /**
     * @return whether {@code --external value} names {@code object}: {@code TYPE:[ID]} matches an object whose id is
     *         ID and whose kind begins with TYPE ({@code pipe:[7]} names {@code pipe-write:[7]}); any other form
     *         must equal the object's name
     */
    static boolean externalMatches(String value, ObjectId object) {
        java.util.regex.Matcher m = TYPE_ID.matcher(value);
        if (m.matches()) {
            return object.kind().startsWith(m.group(1)) && Long.toString(object.id()).equals(m.group(2));
        }
        return value.equals(object.toString());
    }

    private void dumpObjects(Set<FdHandler> handlers, ImageDir image) throws CryoException {
        boolean dry = dryRun();
        for (FdHandler h : handlers) {
            LazyObjectSink sink = new LazyObjectSink(image, h.kind());
            try {
                h.dumpObjects(new ObjectDumpContext() {
                    public ImageSink objects() {
                        return sink;
                    }

                    public Config config() {
                        return config;
                    }

                    public HostKernel kernel() {
                        return kernel;
                    }

                    public boolean dryRun() {
                        return dry;
                    }
                });
            } catch (CryoException e) {
                keep(e);
            } finally {
                sink.close();
            }
        }
    }

    /** Creates {@code <kind>.img} only when the handler writes something. */
    private static final class LazyObjectSink implements ImageSink {
        private final ImageDir image;
        private final String kind;
        private RecordWriter writer;

        LazyObjectSink(ImageDir image, String kind) {
            this.image = image;
            this.kind = kind;
        }

        @Override
        public void write(Message record) throws CryoException {
            if (writer == null) {
                writer = image.writer(ImageFileNames.objects(kind), FileType.OBJECTS);
            }
            writer.write(Envelopes.wrap(kind, record));
        }

        void close() throws CryoException {
            if (writer != null) {
                writer.close();
            }
        }
    }

    static String kernelRelease() {
        try {
            return ProcFs.readText(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException e) {
            return "?";
        }
    }
}
