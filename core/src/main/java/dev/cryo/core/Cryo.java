package dev.cryo.core;

import dev.cryo.api.CryoException;
import dev.cryo.core.config.CryoConfig;
import dev.cryo.core.plugin.PluginHost;
import dev.cryo.core.plugin.PluginInfo;

import com.google.protobuf.Descriptors.Descriptor;
import dev.cryo.core.dump.Dumper;
import dev.cryo.core.image.DamagedImage;
import dev.cryo.core.image.ImageDir;
import dev.cryo.core.image.ImageRenderer;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.restore.Restorer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The engine the CLI drives. One instance per command: it loads the enabled plugins from the distribution's
 * plugin directory and runs one dump, restore or show.
 */
public final class Cryo implements AutoCloseable {
    private final CryoHome home;
    private final CryoConfig config;
    private final PluginHost plugins;
    private Progress progress = Progress.NONE;

    private Cryo(CryoHome home, CryoConfig config, PluginHost plugins) {
        this.home = home;
        this.config = config;
        this.plugins = plugins;
    }

    /** Loads the plugins of {@code home} as {@code config} enables them. */
    public static Cryo start(CryoHome home, CryoConfig config) throws CryoException {
        dev.cryo.core.linux.SyscallTable.checkArchitecture();
        PluginHost host = PluginHost.start(home.pluginsDir(), config);
        List<String> disabled = host.disabledPlugins().stream().map(PluginHost.DisabledPlugin::info)
                .filter(java.util.Objects::nonNull).map(PluginInfo::id).toList();
        return new Cryo(home, config.withDisabledPlugins(disabled), host);
    }

    /** Sets the display that hears of the next dump's or restore's progress ({@link Progress#NONE} by default). */
    public Cryo progress(Progress p) {
        progress = p;
        return this;
    }

    public CryoHome home() {
        return home;
    }

    public CryoConfig config() {
        return config;
    }

    public PluginHost pluginHost() {
        return plugins;
    }

    /**
     * Dumps the tree; on any failure the tree runs on as before and no image is left.
     *
     * @return the dump's statistics (as in {@code stats-dump.img})
     */
    public dev.cryo.core.image.proto.StatsEntry dump(DumpRequest request) throws CryoException {
        LibC.require();
        Dumper dumper = new Dumper(plugins, config, version()).progress(progress);
        dumper.dump(request);
        return dumper.lastStats().orElse(dev.cryo.core.image.proto.StatsEntry.getDefaultInstance());
    }

    /**
     * The dry run of {@code cryo check -t PID}: every reason a dump of the tree would be refused, the tree left
     * running as it was (see {@link Dumper#check}).
     */
    public Dumper.CheckReport check(dev.cryo.api.Pid root) throws CryoException {
        LibC.require();
        Path scratch = scratchDir();
        try {
            return new Dumper(plugins, config, version()).check(root, scratch);
        } finally {
            deleteScratch(scratch); // discard() removed its files
        }
    }

    /**
     * Restores the tree and returns once it runs (or is stopped, with {@code leaveStopped}). On failure every
     * process this restore created is killed.
     */
    public RestoredTree restore(RestoreRequest request) throws CryoException {
        LibC.require();
        try {
            return new Restorer(plugins, config, home).progress(progress).restore(request);
        } catch (RuntimeException e) {
            throw damaged(e, "restoring", request.imageDir());
        }
    }

    /** A value error reading an image is a damaged image ({@link DamagedImage}); anything else is a bug. */
    private static RuntimeException damaged(RuntimeException e, String what, Path imageDir) throws CryoException {
        if (DamagedImage.isValueError(e)) {
            throw DamagedImage.of(imageDir, what, e);
        }
        return e;
    }

    /** {@code cryo graph -D DIR}: the image as a Graphviz DOT graph ({@link dev.cryo.core.image.ImageGraph}). */
    public String graph(Path imageDir) throws CryoException {
        ImageDir image = ImageDir.open(imageDir);
        return dev.cryo.core.image.ImageGraph.dot(image, recordTypes(), List.of(), "image " + imageDir + ": tree of pid "
                + image.inventory().getRootPid());
    }

    /**
     * {@code cryo graph -t PID}: the live tree as a DOT graph, from the dry run of {@link #check} (the tree stopped
     * as briefly as for a check and left running as it was), its refusals marked.
     *
     * @return the graph and the dry run's report
     * @throws CryoException a refusal found before the tree could be looked at (no graph then), or a failure
     */
    public java.util.Map.Entry<String, Dumper.CheckReport> graph(dev.cryo.api.Pid root) throws CryoException {
        LibC.require();
        Path scratch = scratchDir();
        try {
            Dumper.CheckReport report = new Dumper(plugins, config, version()).check(root, scratch, true);
            if (!java.nio.file.Files.exists(scratch.resolve(ImageDir.INVENTORY_FILE))) {
                throw report.problems().get(0); // refused before the look (e.g. a kernel thread as root)
            }
            List<dev.cryo.core.image.ImageGraph.Refusal> refusals = new ArrayList<>();
            for (Dumper.Refused r : report.refused()) {
                refusals.add(new dev.cryo.core.image.ImageGraph.Refusal(r.pid(), r.fd(), r.target(),
                        r.to().map(dev.cryo.api.ObjectId::kind), r.to().map(dev.cryo.api.ObjectId::id).orElse(0L),
                        r.problem().code()));
            }
            String dot = dev.cryo.core.image.ImageGraph.dot(ImageDir.open(scratch), recordTypes(), refusals,
                    "live tree of pid " + root + (report.problems().isEmpty() ? ""
                            : ": a dump would be refused (red; cryo check -t " + root + ")"));
            return java.util.Map.entry(dot, report);
        } finally {
            deleteScratch(scratch);
        }
    }

    private static Path scratchDir() throws CryoException {
        try {
            return java.nio.file.Files.createTempDirectory("cryo-check-");
        } catch (java.io.IOException e) {
            throw new CryoException(CryoException.Category.KERNEL, "core/CHECK_SCRATCH",
                    "cannot create a scratch directory for the dry run: " + e, "set TMPDIR to a writable directory");
        }
    }

    /** Deletes a dry run's scratch directory and what it holds (records only: no pages, no subdirectories). */
    private static void deleteScratch(Path scratch) {
        try (var files = java.nio.file.Files.list(scratch)) {
            for (Path f : files.toList()) {
                java.nio.file.Files.deleteIfExists(f);
            }
            java.nio.file.Files.deleteIfExists(scratch);
        } catch (java.io.IOException e) {
            // a few small files left in TMPDIR are harmless
        }
    }

    /** @return every plugin found in the plugin directory, enabled or not */
    public List<PluginInfo> plugins() {
        return plugins.plugins();
    }

    /** Writes every record of the image as JSON to {@code out}; pages are summarised. */
    public void show(Path imageDir, Appendable out) throws CryoException {
        show(imageDir, out, name -> true);
    }

    /**
     * Writes the records of the image files {@code include} accepts as JSON to {@code out} ({@code cryo show --json}).
     */
    public void show(Path imageDir, Appendable out, java.util.function.Predicate<String> include)
            throws CryoException {
        try {
            ImageRenderer.render(ImageDir.open(imageDir), recordTypes(), out, include);
        } catch (RuntimeException e) {
            throw damaged(e, "showing", imageDir);
        }
    }

    /** Writes the readable summary of the image ({@code cryo show}): the tree, maps and fds of {@code pids} (all if empty). */
    public void summary(Path imageDir, java.util.Set<Integer> pids, Appendable out) throws CryoException {
        try {
            dev.cryo.core.image.ImageSummary.render(ImageDir.open(imageDir), recordTypes(), pids, out);
        } catch (RuntimeException e) {
            throw damaged(e, "showing", imageDir);
        }
    }

    private List<Descriptor> recordTypes() {
        List<Descriptor> types = new ArrayList<>();
        plugins.fdHandlers().forEach(h -> types.addAll(h.recordTypes()));
        plugins.memoryHandlers().forEach(h -> types.addAll(h.recordTypes()));
        plugins.externalPeerHandlers().forEach(h -> types.addAll(h.recordTypes()));
        return types;
    }

    /** @return cryo's version (from the core jar's manifest), {@code dev} when run from classes */
    public static String version() {
        String v = Cryo.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }

    @Override
    public void close() {
        plugins.close();
    }
}
