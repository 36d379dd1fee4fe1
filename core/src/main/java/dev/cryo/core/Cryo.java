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
        Dumper dumper = new Dumper(plugins, config, version());
        dumper.dump(request);
        return dumper.lastStats().orElse(dev.cryo.core.image.proto.StatsEntry.getDefaultInstance());
    }

    /**
     * The dry run of {@code cryo check -t PID}: every reason a dump of the tree would be refused, the tree left
     * running as it was (see {@link Dumper#check}).
     */
    public Dumper.CheckReport check(dev.cryo.api.Pid root) throws CryoException {
        LibC.require();
        Path scratch;
        try {
            scratch = java.nio.file.Files.createTempDirectory("cryo-check-");
        } catch (java.io.IOException e) {
            throw new CryoException(CryoException.Category.KERNEL, "core/CHECK_SCRATCH",
                    "cannot create a scratch directory for the dry run: " + e, "set TMPDIR to a writable directory");
        }
        try {
            return new Dumper(plugins, config, version()).check(root, scratch);
        } finally {
            try {
                java.nio.file.Files.deleteIfExists(scratch);
            } catch (java.io.IOException e) {
                // discard() removed its files; an empty directory left in TMPDIR is harmless
            }
        }
    }

    /**
     * Restores the tree and returns once it runs (or is stopped, with {@code leaveStopped}). On failure every
     * process this restore created is killed.
     */
    public RestoredTree restore(RestoreRequest request) throws CryoException {
        LibC.require();
        try {
            return new Restorer(plugins, config, home).restore(request);
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
