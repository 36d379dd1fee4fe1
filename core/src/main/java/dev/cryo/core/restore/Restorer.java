package dev.cryo.core.restore;

import com.google.protobuf.Message;
import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.ExternalPeerHandler;
import dev.cryo.api.FdHandler;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.HostKernel;
import dev.cryo.api.ImageSource;
import dev.cryo.api.LifecycleEvent;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.LocalFd;
import dev.cryo.api.MemoryHandler;
import dev.cryo.api.MemoryRestoreContext;
import dev.cryo.api.PageSource;
import dev.cryo.api.Pid;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.RestoreCheckContext;
import dev.cryo.api.RestoreOutcome;
import dev.cryo.api.TargetFd;
import dev.cryo.core.CryoHome;
import dev.cryo.core.PipelineStats;
import dev.cryo.core.Progress;
import dev.cryo.core.RestoreRequest;
import dev.cryo.core.RestoredTree;
import dev.cryo.core.image.EnvelopeSource;
import dev.cryo.core.image.Envelopes;
import dev.cryo.core.image.FileType;
import dev.cryo.core.image.ImageFileNames;
import dev.cryo.core.image.ImageDir;
import dev.cryo.core.image.PagesReader;
import dev.cryo.core.image.proto.CoreEntry;
import dev.cryo.core.image.proto.Envelope;
import dev.cryo.core.image.proto.FdRef;
import dev.cryo.core.image.proto.FdinfoEntry;
import dev.cryo.core.image.proto.InventoryEntry;
import dev.cryo.core.image.proto.MmEntry;
import dev.cryo.core.image.proto.PluginRef;
import dev.cryo.core.image.proto.PstreeEntry;
import dev.cryo.core.image.proto.StatsEntry;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.LiveTask;
import dev.cryo.core.linux.ProcFs;
import dev.cryo.core.linux.Reaper;
import dev.cryo.core.linux.Rlimits;
import dev.cryo.core.linux.StopRequest;
import dev.cryo.core.linux.Sys;
import dev.cryo.core.linux.Tracee;
import dev.cryo.core.linux.TracerThread;
import dev.cryo.core.plugin.HandlerRegistry;
import dev.cryo.core.plugin.PluginInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The restore pipeline (docs/architecture.md, "Restore pipeline") for an image of a process tree. Runs on one
 * {@link TracerThread}; on failure before the resume everything it created is killed.
 */
public final class Restorer {
    private static final Logger LOG = LoggerFactory.getLogger(Restorer.class);

    private final HandlerRegistry plugins;
    private final Config config;
    private final CryoHome home;
    private final HostKernel kernel = new dev.cryo.core.linux.HostView();
    private InheritedFds inherited;
    /** Per-phase times and counts of this restore, logged with -v and kept in the image. */
    private PipelineStats stats;
    private Progress progress = Progress.NONE;

    public Restorer(HandlerRegistry plugins, Config config, CryoHome home) {
        this.plugins = plugins;
        this.config = config;
        this.home = home;
    }

    /** Sets the display that hears of the restore's phases and page bytes ({@link Progress#NONE} by default). */
    public Restorer progress(Progress p) {
        progress = p;
        return this;
    }

    public RestoredTree restore(RestoreRequest request) throws CryoException {
        try (TracerThread tracer = new TracerThread("cryo-tracer")) {
            return StopRequest.guard(() -> tracer.call(() -> run(request)), 10);
        } finally {
            progress.finished();
        }
    }

    /** What the image holds for one process. */
    private record ProcessImage(PstreeEntry proc, CoreEntry core, List<FdinfoEntry> fds, List<Envelope> mm) {
        int pid() {
            return proc.getPid();
        }

        boolean zombie() {
            return proc.getZombie();
        }

        String comm() {
            return core != null ? core.getComm() : proc.getComm();
        }
    }

    private RestoredTree run(RestoreRequest request) throws CryoException {
        stats = new PipelineStats("restore").progress(progress);
        stats.begin("read");
        inherited = InheritedFds.parse(config.values("inherit-fd"));
        ImageDir image = ImageDir.open(request.imageDir());
        InventoryEntry inventory = image.inventory();
        checkPlugins(inventory, request.imageDir());
        List<ProcessImage> procs = new ArrayList<>();
        java.util.Set<Integer> seenIds = new java.util.HashSet<>();
        for (PstreeEntry proc : image.readAll(ImageFileNames.PSTREE, FileType.PSTREE, PstreeEntry.parser())) {
            checkIds(image, proc, seenIds);
            Pid pid = Pid.of(proc.getPid());
            if (proc.getZombie()) {
                procs.add(new ProcessImage(proc, null, List.of(), List.of()));
                continue;
            }
            procs.add(new ProcessImage(proc,
                    single(image, ImageFileNames.core(pid), FileType.CORE, CoreEntry.parser()),
                    image.readAll(ImageFileNames.fdinfo(pid), FileType.FDINFO, FdinfoEntry.parser()),
                    image.readAll(ImageFileNames.mm(pid), FileType.MM, Envelope.parser())));
        }
        checkEveryCoreListed(image, procs);
        for (ProcessImage p : procs) {
            for (FdinfoEntry e : p.fds()) {
                if (e.getFd() < 0) {
                    throw new CryoException(Category.IMAGE, "core/IMAGE_CORRUPT", "corrupt image: "
                            + image.path().resolve(ImageFileNames.fdinfo(Pid.of(p.pid()))) + " records fd "
                            + Integer.toUnsignedString(e.getFd()) + ", not an fd number",
                            "the image is damaged; dump the tree again");
                }
            }
        }
        if (procs.isEmpty()) {
            throw new CryoException(Category.IMAGE, "core/IMAGE_CORRUPT", request.imageDir().resolve(
                    ImageFileNames.PSTREE) + " lists no process");
        }
        if (procs.get(0).zombie()) {
            throw new CryoException(Category.IMAGE, "core/IMAGE_CORRUPT", request.imageDir().resolve(
                    ImageFileNames.PSTREE) + ": the root pid " + procs.get(0).pid() + " is recorded as a zombie");
        }
        FileLockRestore.checkOption(procs.stream().filter(p -> !p.zombie()).map(ProcessImage::core).toList(),
                config.isSet("file-locks"));
        for (ProcessImage p : procs) {
            checkPidFree(p.pid(), p.comm());
            for (int tid : p.proc().getThreadsList()) {
                checkPidFree(tid, p.comm());
            }
        }
        int rootPid = procs.get(0).pid();
        FileLockRestore.recreateMappedFiles(procs.stream().filter(p -> !p.zombie()).map(ProcessImage::core).toList());
        checkRestore(image, procs);
        LifecycleEvent event = new LifecycleEvent(request.imageDir(), Pid.of(rootPid), config);
        List<LifecycleListener> told = new ArrayList<>();
        try {
            for (LifecycleListener l : plugins.lifecycleListeners()) {
                told.add(l);
                l.preRestore(event);
            }
            return rebuild(request, image, procs, event);
        } catch (CryoException failure) {
            tellFailure(told, event, failure);
            throw failure;
        } catch (RuntimeException bug) {
            tellFailure(told, event, new CryoException(Category.INTERNAL, "core/INTERNAL", "restore failed: " + bug,
                    null, bug));
            throw bug;
        }
    }

    /**
     * Every {@code core-PID.img} of the image belongs to a live process of {@code pstree.img}: a process whose pstree
     * record was lost (its checksums redone, so no frame check sees it) would otherwise be silently left out.
     */
    private static void checkEveryCoreListed(ImageDir image, List<ProcessImage> procs) throws CryoException {
        java.util.Set<Integer> live = new java.util.HashSet<>();
        procs.stream().filter(p -> !p.zombie()).forEach(p -> live.add(p.pid()));
        java.util.regex.Pattern core = java.util.regex.Pattern.compile("core-([0-9]{1,9})\\.img");
        for (String f : image.files()) {   // the files the inventory lists
            var m = core.matcher(f);
            if (m.matches() && !live.contains(Integer.parseInt(m.group(1)))) {
                throw new CryoException(Category.IMAGE, "core/IMAGE_CORRUPT", "corrupt image: "
                        + image.path().resolve(f) + " holds a process that "
                        + image.path().resolve(ImageFileNames.PSTREE) + " does not list as a live process",
                        "the image is damaged; dump the tree again");
            }
        }
    }

    /** The pids and tids of one pstree record: each one a possible pid, and none twice in the image. */
    private static void checkIds(ImageDir image, PstreeEntry proc, java.util.Set<Integer> seen) throws CryoException {
        List<Integer> ids = new ArrayList<>();
        ids.add(proc.getPid());
        ids.addAll(proc.getThreadsList().stream().filter(t -> t != proc.getPid()).toList());
        for (int id : ids) {
            // PID_MAX_LIMIT (2^22) is the largest pid any kernel hands out
            if (id <= 0 || id > (1 << 22) || !seen.add(id)) {
                throw new CryoException(Category.IMAGE, "core/IMAGE_CORRUPT", "corrupt image: "
                        + image.path().resolve(ImageFileNames.PSTREE) + " records " + (id == proc.getPid() ? "pid "
                        : "thread ") + Integer.toUnsignedString(id) + (id <= 0 || id > (1 << 22)
                        ? ", not a possible pid" : " twice"), "the image is damaged; dump the tree again");
            }
        }
        if (proc.getPpid() < 0 || proc.getPgid() < 0 || proc.getSid() < 0) {
            throw new CryoException(Category.IMAGE, "core/IMAGE_CORRUPT", "corrupt image: "
                    + image.path().resolve(ImageFileNames.PSTREE) + " records pid " + proc.getPid() + " with ppid "
                    + proc.getPpid() + ", pgid " + proc.getPgid() + ", sid " + proc.getSid(),
                    "the image is damaged; dump the tree again");
        }
    }

    private void tellFailure(List<LifecycleListener> listeners, LifecycleEvent event, CryoException failure) {
        for (LifecycleListener l : listeners) {
            try {
                l.onFailure(event, failure);
            } catch (RuntimeException e) {
                LOG.warn("plugin {}: onFailure failed: {}", plugins.pluginIdOf(l), e.toString());
            }
        }
    }

    private RestoredTree rebuild(RestoreRequest request, ImageDir image, List<ProcessImage> procs,
                                 LifecycleEvent event) throws CryoException {
        int rootPid = procs.get(0).pid();
        Subreaper.become();
        if (progress != Progress.NONE) {
            progress.total(pageBytes(image, procs));
        }
        long t0 = System.nanoTime();
        ProcessCreator creator = new ProcessCreator(home.stub());
        Map<Integer, Tracee> created = new LinkedHashMap<>();
        List<ProcessRebuilder> rebuilders = new ArrayList<>();
        boolean resumed = false;
        StatsEntry.Builder counts = stats.counts().setProcesses(procs.size());
        for (ProcessImage p : procs) {
            counts.setThreads(counts.getThreads() + p.proc().getThreadsCount())
                    .setMappings(counts.getMappings() + p.mm().size()).setFds(counts.getFds() + p.fds().size());
        }
        FdOwnerRestore owners = new FdOwnerRestore();
        // copy-on-write sharing: a parent whose child keeps memory inherited from it gets its memory first, and
        // the child is forked from it then (docs/architecture.md, "Restore pipeline")
        Map<Integer, List<MemoryHandler.Range>> keep = new java.util.HashMap<>();
        java.util.Set<Integer> memoryFirst = new java.util.HashSet<>();
        Map<Integer, ProcessRebuilder> rebuiltFirst = new java.util.HashMap<>();
        Map<Integer, LiveTask> liveTasks = new java.util.HashMap<>();
        try {
            keep.putAll(inheritedRanges(image, procs));
            for (ProcessImage p : procs) {
                if (!p.zombie() && !keep.getOrDefault(p.pid(), List.of()).isEmpty()) {
                    memoryFirst.add(p.proc().getPpid());
                }
            }
            stats.begin("create");
            createTree(procs, creator, created, p -> {
                if (p.zombie() || !memoryFirst.contains(p.pid())) {
                    return;
                }
                LiveTask task = liveTask(p, created, creator, liveTasks);
                ProcessRebuilder rebuilder = new ProcessRebuilder(task, creator, p.core(), p.proc());
                rebuilder.prepare(memoryFirst.contains(p.proc().getPpid()) ? keep.getOrDefault(p.pid(), List.of())
                        : List.of());
                stats.begin("memory");
                counts.setPagesBytes(counts.getPagesBytes() + restoreMemory(task, image, p.pid(), p.mm()));
                stats.begin("create");
                rebuiltFirst.put(p.pid(), rebuilder);
                LOG.debug("pid {}: memory restored before its children are forked", p.pid());
            });
            LOG.debug("{} processes created at {} ms", created.size(), (System.nanoTime() - t0) / 1_000_000);
            for (ProcessImage p : procs) {
                if (p.zombie()) {
                    continue;
                }
                int pid = p.pid();
                stats.begin("state");
                LiveTask task = liveTask(p, created, creator, liveTasks);
                ProcessRebuilder rebuilder = rebuiltFirst.get(pid);
                if (rebuilder == null) {
                    rebuilder = new ProcessRebuilder(task, creator, p.core(), p.proc());
                    rebuilder.prepare(memoryFirst.contains(p.proc().getPpid()) ? keep.getOrDefault(pid, List.of())
                            : List.of());
                    stats.begin("memory");
                    counts.setPagesBytes(counts.getPagesBytes() + restoreMemory(task, image, pid, p.mm()));
                }
                rebuilders.add(rebuilder);
                stats.begin("state");
                rebuilder.restoreMmFields();
                rebuilder.createThreads();
                stats.begin("fds");
                restoreFds(task, image, p.fds());
                stats.begin("state");
                rebuilder.restoreProcessState();
                stats.end();
                owners.add(task, p.fds());
                LOG.debug("pid {} rebuilt at {} ms", pid, (System.nanoTime() - t0) / 1_000_000);
            }
            stats.begin("state");
            owners.apply();
            for (ProcessRebuilder r : rebuilders) {
                r.finish();
            }
            stats.end();
            LOG.debug("rebuilt {} processes under pid {} in {} ms", procs.size(), rootPid,
                    (System.nanoTime() - t0) / 1_000_000);
            for (LifecycleListener l : plugins.lifecycleListeners()) {
                l.postRestore(event);
            }
            if (request.leaveStopped()) {
                for (ProcessImage p : procs) {
                    if (!p.zombie()) {
                        LibC.INSTANCE.kill(p.pid(), Sys.SIGSTOP);
                    }
                }
            }
            // children first, so that no restored process runs while one of its descendants is still rebuilt
            stats.begin("resume");
            for (int i = rebuilders.size() - 1; i >= 0; i--) {
                for (Tracee t : rebuilders.get(i).threads()) {
                    t.detach(0);
                }
            }
            stats.end();
            resumed = true;
        } finally {
            List<Object> handlers = new ArrayList<>(plugins.fdHandlers());
            handlers.addAll(plugins.memoryHandlers());
            handlers.addAll(plugins.externalPeerHandlers());
            for (Object h : handlers) {
                try {
                    if (h instanceof FdHandler f) {
                        f.finishRestore();
                    } else if (h instanceof MemoryHandler m) {
                        m.finishRestore();
                    } else if (h instanceof ExternalPeerHandler x) {
                        x.finishRestore();
                    }
                } catch (RuntimeException | LinkageError e) {
                    LOG.warn("plugin {}: finishRestore failed: {}", plugins.pluginIdOf(h), e.toString());
                }
            }
            if (!resumed) {
                List<Integer> tasks = new ArrayList<>();
                for (ProcessRebuilder r : rebuilders) {
                    r.threads().forEach(t -> tasks.add(t.tid()));
                }
                tasks.addAll(created.keySet());
                Reaper.killAll(new ArrayList<>(created.keySet()), tasks);
            }
            creator.close();
        }
        if (!request.leaveStopped()) {
            for (LifecycleListener l : plugins.lifecycleListeners()) {
                l.postResume(event);
            }
        }
        stats.counts().setImageBytes(image.bytes());
        progress.total(stats.counts().getPagesBytes()); // done (100%)
        StatsEntry finished = stats.finish();
        PipelineStats.keep(image, ImageFileNames.STATS_RESTORE, finished, LOG);
        return new ChildTree(Pid.of(rootPid), finished);
    }

    private static LiveTask liveTask(ProcessImage p, Map<Integer, Tracee> created, ProcessCreator creator,
                                     Map<Integer, LiveTask> tasks) {
        return tasks.computeIfAbsent(p.pid(), pid -> {
            LiveTask task = new LiveTask(created.get(pid), pid, p.core().getComm());
            task.setScratch(creator.dataArea(), ProcessCreator.DATA_SIZE);
            return task;
        });
    }

    /**
     * @return per process, the ranges its memory handlers would rather find inherited from its parent
     *         ({@link MemoryHandler#inheritedRanges}), in address order and merged; processes without any are absent
     */
    private Map<Integer, List<MemoryHandler.Range>> inheritedRanges(ImageDir image, List<ProcessImage> procs)
            throws CryoException {
        Map<Integer, List<MemoryHandler.Range>> out = new java.util.HashMap<>();
        for (ProcessImage p : procs) {
            if (p.zombie()) {
                continue;
            }
            Map<String, List<Envelope>> byKind = new LinkedHashMap<>();
            for (Envelope e : p.mm()) {
                byKind.computeIfAbsent(e.getKind(), k -> new ArrayList<>()).add(e);
            }
            List<MemoryHandler.Range> all = new ArrayList<>();
            String file = ImageFileNames.mm(Pid.of(p.pid()));
            for (MemoryHandler h : plugins.memoryHandlers()) {
                List<Envelope> mine = byKind.get(h.kind());
                if (mine != null) {
                    all.addAll(h.inheritedRanges(new EnvelopeSource(h.kind(), file, mine)));
                }
            }
            if (all.isEmpty()) {
                continue;
            }
            // a comparator class, not Comparator.comparing: the JDK's lambda inside it is not in the class data
            // archive
            all.sort(new java.util.Comparator<MemoryHandler.Range>() {
                @Override
                public int compare(MemoryHandler.Range a, MemoryHandler.Range b) {
                    return Long.compare(a.start(), b.start());
                }
            });
            List<MemoryHandler.Range> merged = new ArrayList<>();
            for (MemoryHandler.Range r : all) {
                MemoryHandler.Range last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
                if (last != null && r.start() <= last.end()) {
                    merged.set(merged.size() - 1, new MemoryHandler.Range(last.start(), Math.max(last.end(),
                            r.end())));
                } else {
                    merged.add(r);
                }
            }
            out.put(p.pid(), merged);
        }
        return out;
    }

    /** Work done on a process in {@link #createTree} after its setsid, before its children are forked from it. */
    private interface BeforeChildren {
        void run(ProcessImage p) throws CryoException;
    }

    /**
     * Runs every handler's {@code checkRestore} whose kind the image holds, before any process exists: fd handlers
     * with their fd records and object table, memory handlers, external-peer handlers with their records of
     * {@code external.img}.
     */
    private void checkRestore(ImageDir image, List<ProcessImage> procs) throws CryoException {
        Map<String, List<RestoreCheckContext.FdRecord>> fdRecords = new LinkedHashMap<>();
        java.util.Set<String> memoryKinds = new java.util.HashSet<>();
        for (ProcessImage p : procs) {
            for (FdinfoEntry e : p.fds()) {
                if (!e.hasSameAs()) {
                    fdRecords.computeIfAbsent(e.getKind(), k -> new ArrayList<>()).add(new RestoreCheckContext.FdRecord(
                            Pid.of(p.pid()), p.comm(), TargetFd.of(e.getFd()), e.getRecord()));
                }
            }
            p.mm().forEach(e -> memoryKinds.add(e.getKind()));
        }
        ImageSource none = new ImageSource() {
            public <T extends Message> List<T> read(Class<T> type) {
                return List.of();
            }
        };
        for (FdHandler h : plugins.fdHandlers()) {
            List<RestoreCheckContext.FdRecord> records = fdRecords.get(h.kind());
            if (records != null) {
                h.checkRestore(checkContext(image, objectSource(image, h.kind()), records, none));
            }
        }
        for (MemoryHandler h : plugins.memoryHandlers()) {
            if (memoryKinds.contains(h.kind())) {
                h.checkRestore(checkContext(image, none, List.of(), none));
            }
        }
        if (image.exists(ImageFileNames.EXTERNAL)) {
            List<Envelope> externals = image.readAll(ImageFileNames.EXTERNAL, FileType.EXTERNAL, Envelope.parser());
            for (ExternalPeerHandler h : plugins.externalPeerHandlers()) {
                List<Envelope> mine = externals.stream().filter(e -> e.getKind().equals(h.kind())).toList();
                if (!mine.isEmpty()) {
                    h.checkRestore(checkContext(image, none, List.of(),
                            new EnvelopeSource(h.kind(), ImageFileNames.EXTERNAL, mine)));
                }
            }
        }
    }

    private RestoreCheckContext checkContext(ImageDir image, ImageSource objects,
                                             List<RestoreCheckContext.FdRecord> records, ImageSource externals) {
        return new CheckContext(image.path(), config, kernel, objects, records, externals, inherited);
    }

    /** What a handler's {@code checkRestore} sees: the image, the config, the kernel, its records, the inherited fds. */
    private record CheckContext(Path imageDir, Config config, HostKernel kernel, ImageSource objects,
                                List<RestoreCheckContext.FdRecord> fdRecords, ImageSource externals,
                                InheritedFds inherited) implements RestoreCheckContext {
        @Override
        public Optional<LocalFd> inheritedFd(String resource) {
            return inherited.find(resource);
        }
    }

    /**
     * Creates every process with its pid, parents before children, each child forked from its parent so that ppid
     * is right (from a parent still stub-like, or one whose memory {@code beforeChildren} restored: the child then
     * inherits it copy-on-write); a session leader calls setsid() before it forks, so its descendants inherit
     * the session; a leader whose controlling terminal is a pseudo-terminal this restore recreated (a plugin holds
     * its master in cryo's process by now) takes it after forking the children that had none and before the others,
     * which inherit it ({@link ControllingTerminal}); then group leaders make their groups and members join them.
     */
    private void createTree(List<ProcessImage> procs, ProcessCreator creator, Map<Integer, Tracee> created,
                            BeforeChildren beforeChildren) throws CryoException {
        List<MmEntry> layouts = new ArrayList<>();
        procs.stream().filter(p -> !p.zombie()).forEach(p -> layouts.add(p.core().getMm()));
        ProcessImage root = procs.get(0);
        created.put(root.pid(), creator.createRoot(root.pid(), root.comm(), layouts));
        for (ProcessImage p : procs) {
            Tracee t = created.get(p.pid());
            if (t == null) {
                throw new CryoException(Category.IMAGE, "core/IMAGE_CORRUPT", "pstree.img: pid " + p.pid()
                        + " comes before its parent " + p.proc().getPpid());
            }
            Optional<String> terminal = Optional.empty();
            if (p.proc().getSid() == p.pid()) {
                t.injectChecked("setsid", Sys.SETSID);
                terminal = ControllingTerminal.recreated(p.proc().getTtyNr());
            }
            beforeChildren.run(p);
            // a leader's children without a controlling terminal were forked before it took one: fork them first
            for (boolean withTerminal : new boolean[] {false, true}) {
                if (withTerminal && terminal.isPresent()) {
                    creator.takeTerminal(t, terminal.get(), p.proc().getTtyNr());
                }
                for (ProcessImage c : procs) {
                    if (c != root && c.proc().getPpid() == p.pid()
                            && (c.proc().getTtyNr() != 0 || !terminal.isPresent()) == withTerminal) {
                        created.put(c.pid(), creator.createChild(t, c.pid(), c.comm(), sharesFdTable(c, p)));
                    }
                }
            }
        }
        for (ProcessImage p : procs) {
            PstreeEntry e = p.proc();
            if (e.getPgid() == e.getPid() && e.getSid() != e.getPid()) {
                created.get(p.pid()).injectChecked("setpgid(0, 0)", Sys.SETPGID, 0, 0);
            }
        }
        OrphanedGroups orphaned = new OrphanedGroups(creator);
        try {
            orphaned.create(procs.stream().map(ProcessImage::proc).toList(), created);
            for (ProcessImage p : procs) {
                PstreeEntry e = p.proc();
                if (e.getPgid() != e.getPid() && (created.containsKey(e.getPgid()) || orphaned.leads(e.getPgid()))) {
                    created.get(p.pid()).injectChecked("setpgid(0, " + e.getPgid() + ")", Sys.SETPGID, 0,
                            e.getPgid());
                } else if (e.getPgid() != e.getPid()) {
                    LOG.info("pid {} was in process group {} / session {} outside the tree: it joins cryo's",
                            e.getPid(), e.getPgid(), e.getSid());
                }
            }
            orphaned.finish();
        } finally {
            orphaned.killLeftovers();
        }
        // zombies exit now with their recorded status: they wait, unreaped, for their restored parents. Their
        // SIGCHLD must stay pending in the parents (delivered after the resume), not stop an injection now.
        for (ProcessImage p : procs) {
            if (!p.zombie()) {
                created.get(p.pid()).setSigmask(-1L);
            }
        }
        for (ProcessImage p : procs) {
            if (p.zombie()) {
                Rlimits.disableCoreDumps(p.pid());
                creator.setName(created.get(p.pid()), p.comm());
                created.get(p.pid()).injectExit(p.proc().getExitStatus());
            }
        }
    }

    /**
     * @return whether {@code child} shares the fd table of {@code parent} (CLONE_FILES): the dump recorded the
     *         process holding the table, which must be the parent or the process whose table the parent shares
     */
    private static boolean sharesFdTable(ProcessImage child, ProcessImage parent) throws CryoException {
        int holder = child.proc().getFdTableOf();
        if (holder == 0) {
            return false;
        }
        if (holder != parent.pid() && holder != parent.proc().getFdTableOf()) {
            throw new CryoException(Category.IMAGE, "core/IMAGE_CORRUPT", "pstree.img: pid " + child.pid()
                    + " shares the fd table of pid " + holder + ", which its parent " + parent.pid() + " does not"
                    + " hold or share");
        }
        return true;
    }

    private static <T extends Message> T single(ImageDir image, String name, FileType type,
                                                com.google.protobuf.Parser<T> parser) throws CryoException {
        List<T> all = image.readAll(name, type, parser);
        if (all.size() != 1) {
            throw new CryoException(Category.IMAGE, "core/IMAGE_CORRUPT", image.path().resolve(name) + " holds "
                    + all.size() + " records, expected 1");
        }
        return all.get(0);
    }

    private void checkPlugins(InventoryEntry inventory, Path dir) throws CryoException {
        for (PluginRef ref : inventory.getPluginsList()) {
            Optional<PluginInfo> p = plugins.plugin(ref.getId());
            if (p.isEmpty()) {
                throw new CryoException(Category.PLUGIN_CONFIG, "core/PLUGIN_MISSING", "image " + dir
                        + " was written with plugin '" + ref.getId() + "' " + ref.getVersion()
                        + ", which is not installed in " + home.pluginsDir(),
                        "install the '" + ref.getId() + "' plugin " + ref.getVersion() + " into " + home.pluginsDir());
            }
            if (!p.get().enabled()) {
                throw new CryoException(Category.PLUGIN_CONFIG, "core/PLUGIN_DISABLED", "image " + dir
                        + " needs plugin '" + ref.getId() + "' (written by version " + ref.getVersion()
                        + "), which is disabled by the configuration",
                        "enable it: list '" + ref.getId() + "' in plugins.enabled and remove it from plugins.disabled");
            }
            if (!compatible(ref.getVersion(), p.get().version())) {
                throw new CryoException(Category.PLUGIN_CONFIG, "core/PLUGIN_VERSION", "image " + dir
                        + " was written by plugin '" + ref.getId() + "' " + ref.getVersion() + "; the installed "
                        + "version " + p.get().version() + " cannot read it",
                        "install a version of '" + ref.getId() + "' compatible with " + ref.getVersion());
            }
        }
    }

    /** Same major version (same major.minor for 0.x). */
    static boolean compatible(String written, String installed) {
        String[] a = written.split("\\.");
        String[] b = installed.split("\\.");
        if (a.length < 2 || b.length < 2 || !a[0].equals(b[0])) {
            return false;
        }
        return !a[0].equals("0") || a[1].equals(b[1]);
    }

    /** How long a restore waits for a zombie holding one of its pids to be reaped by its parent (or init). */
    private static final long ZOMBIE_WAIT_MS = 5_000;

    private static void checkPidFree(int pid, String comm) throws CryoException {
        long deadline = System.currentTimeMillis() + ZOMBIE_WAIT_MS;
        while (isZombie(pid) && System.currentTimeMillis() < deadline) {
            // a tree killed by `cryo dump` a moment ago leaves orphans for init, which reaps them slowly
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (ProcFs.exists(pid)) {
            String holder = ProcFs.comm(pid);
            ProcFs.Stat st = null;
            try {
                st = ProcFs.stat(pid);
            } catch (CryoException e) {
                // gone meanwhile: report it as in use all the same, the user retries
            }
            if (st != null && st.state() == 'Z') {
                throw new CryoException(Category.CONFLICT, "core/PID_IN_USE", "cannot restore pid " + pid + " (\""
                        + comm + "\"): pid " + pid + " is still held by a zombie \"" + holder + "\" that its parent"
                        + " pid " + st.ppid() + " has not reaped yet",
                        "wait until pid " + st.ppid() + " reaps it (init reaps orphans after a few seconds), then"
                                + " restore again");
            }
            throw new CryoException(Category.CONFLICT, "core/PID_IN_USE", "cannot restore pid " + pid + " (\"" + comm
                    + "\"): pid " + pid + " is in use by \"" + holder + "\"",
                    "stop pid " + pid + " first (after a --leave-running dump the original must be gone before a"
                            + " restore), then restore again");
        }
    }

    private static boolean isZombie(int pid) {
        try {
            return ProcFs.exists(pid) && ProcFs.stat(pid).state() == 'Z';
        } catch (CryoException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------- memory

    /** @return the page data of the image's processes, in bytes (the progress display's total) */
    private static long pageBytes(ImageDir image, List<ProcessImage> procs) throws CryoException {
        long total = 0;
        for (ProcessImage p : procs) {
            String name = ImageFileNames.pages(Pid.of(p.pid()));
            if (!p.zombie() && image.exists(name)) {
                try (var reader = image.pagesReader(name)) {
                    total += reader.dataSize();
                }
            }
        }
        return total;
    }

    /** @return bytes of page data loaded */
    private long restoreMemory(LiveTask task, ImageDir image, int pid, List<Envelope> mm) throws CryoException {
        Map<String, List<Envelope>> byKind = new LinkedHashMap<>();
        for (Envelope e : mm) {
            byKind.computeIfAbsent(e.getKind(), k -> new ArrayList<>()).add(e);
        }
        try (PagesReader pagesReader = image.pagesReader(ImageFileNames.pages(Pid.of(pid)));
             PageLoader loader = new PageLoader(task.tracee(), pagesReader, progress::advance)) {
            for (Map.Entry<String, List<Envelope>> e : byKind.entrySet()) {
                String file = ImageFileNames.mm(Pid.of(pid));
                MemoryHandler h = memoryHandler(e.getKey(), image.path().resolve(file));
                ImageSource records = new EnvelopeSource(e.getKey(), file, e.getValue());
                h.restore(new MemoryRestoreContext() {
                    public RemoteTask task() {
                        return task;
                    }

                    public PageSource pages() {
                        return loader;
                    }

                    public ImageSource records() {
                        return records;
                    }

                    public Config config() {
                        return config;
                    }
                });
            }
            loader.flush();
            LOG.debug("restored {} MiB of pages into pid {}", loader.loadedBytes() >> 20, pid);
            return loader.loadedBytes();
        }
    }

    private MemoryHandler memoryHandler(String kind, Path file) throws CryoException {
        for (MemoryHandler h : plugins.memoryHandlers()) {
            if (h.kind().equals(kind)) {
                return h;
            }
        }
        throw new CryoException(Category.PLUGIN_CONFIG, "core/NO_HANDLER", file + " holds memory records of kind '"
                + kind + "' and no enabled plugin handles that kind", "enable the plugin providing '" + kind + "'");
    }

    // ---------------------------------------------------------------- fds

    /** A loop, not a stream's lambda: every restore with a dup'ed fd (stdout and stderr) comes here. */
    private static boolean holdsFd(List<FdinfoEntry> entries, int fd) {
        for (FdinfoEntry e : entries) {
            if (e.getFd() == fd) {
                return true;
            }
        }
        return false;
    }

    private void restoreFds(LiveTask task, ImageDir image, List<FdinfoEntry> fds) throws CryoException {
        Map<String, ImageSource> objectTables = new LinkedHashMap<>();
        List<FdinfoEntry> pending = new ArrayList<>(fds);
        while (!pending.isEmpty()) {
            List<FdinfoEntry> retry = new ArrayList<>();
            for (FdinfoEntry e : pending) {
                if (e.hasSameAs()) {
                    // the same open file description as an fd restored before (parents first, fds ascending)
                    FdRef from = e.getSameAs();
                    if (from.getPid() == task.pid().value() && holdsFd(retry, from.getFd())) {
                        // its original (a lower fd, so handled earlier in this round) was deferred by its handler
                        retry.add(e);
                        continue;
                    }
                    try (LocalFd same = LiveTask.pullFd(from.getPid(), from.getFd())) {
                        task.pushFd(same, TargetFd.of(e.getFd()), e.getCloexec());
                    } catch (CryoException failure) {
                        throw new CryoException(failure.category(), failure.code(), "restoring fd " + e.getFd()
                                + " of " + task.who() + " as a duplicate of fd " + from.getFd() + " of pid "
                                + from.getPid() + " (" + ImageFileNames.fdinfo(task.pid()) + "): "
                                + failure.getMessage(), failure.fix(), failure);
                    }
                    continue;
                }
                FdHandler h = fdHandler(e, image);
                ImageSource objects = objectTables.computeIfAbsent(e.getKind(), k -> objectSource(image, k));
                RestoreOutcome outcome = h.restore(new FdRestoreContext() {
                    public RemoteTask task() {
                        return task;
                    }

                    public TargetFd fd() {
                        return TargetFd.of(e.getFd());
                    }

                    public boolean cloexec() {
                        return e.getCloexec();
                    }

                    public <T extends Message> T record(Class<T> type) throws CryoException {
                        return Envelopes.unpack(e.getRecord(), type, image.path().resolve(
                                ImageFileNames.fdinfo(task.pid())) + " fd " + e.getFd());
                    }

                    public ImageSource objects() {
                        return objects;
                    }

                    public Config config() {
                        return config;
                    }

                    public HostKernel kernel() {
                        return kernel;
                    }

                    public Optional<LocalFd> inheritedFd(String resource) {
                        return inherited.find(resource);
                    }
                });
                if (outcome == RestoreOutcome.RETRY_LATER) {
                    retry.add(e);
                }
            }
            if (retry.size() == pending.size()) {
                throw new CryoException(Category.INTERNAL, "core/FD_DEADLOCK", "restore of fds " + fdNumbers(retry)
                        + " of pid " + task.pid() + " made no progress: every handler asked to retry later");
            }
            pending = retry;
        }
    }

    private static String fdNumbers(List<FdinfoEntry> l) {
        StringBuilder sb = new StringBuilder();
        for (FdinfoEntry e : l) {
            sb.append(sb.length() == 0 ? "" : ", ").append(e.getFd()).append(" (").append(e.getKind()).append(')');
        }
        return sb.toString();
    }

    private FdHandler fdHandler(FdinfoEntry e, ImageDir image) throws CryoException {
        for (FdHandler h : plugins.fdHandlers()) {
            if (h.kind().equals(e.getKind())) {
                return h;
            }
        }
        throw new CryoException(Category.PLUGIN_CONFIG, "core/NO_HANDLER", "fd " + e.getFd() + " in "
                + image.path() + " is of kind '" + e.getKind() + "' and no enabled plugin handles that kind",
                "enable the plugin providing '" + e.getKind() + "' (plugins.enabled)");
    }

    private static ImageSource objectSource(ImageDir image, String kind) {
        String name = ImageFileNames.objects(kind);
        return new ImageSource() {
            public <T extends Message> List<T> read(Class<T> type) throws CryoException {
                if (!image.exists(name)) {
                    return List.of();
                }
                return EnvelopeSource.read(image, name, FileType.OBJECTS, kind).read(type);
            }
        };
    }

    // ---------------------------------------------------------------- helpers

}
