package dev.cryo.core.plugin;

import dev.cryo.api.Spi;
import org.pf4j.AbstractPluginManager;
import org.pf4j.DefaultExtensionFactory;
import org.pf4j.DefaultPluginFactory;
import org.pf4j.DefaultVersionManager;
import org.pf4j.ExtensionFactory;
import org.pf4j.ExtensionFinder;
import org.pf4j.JarPluginLoader;
import org.pf4j.LegacyExtensionFinder;
import org.pf4j.Plugin;
import org.pf4j.PluginClassLoader;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginDescriptorFinder;
import org.pf4j.PluginFactory;
import org.pf4j.PluginLoader;
import org.pf4j.PluginRepository;
import org.pf4j.PluginRuntimeException;
import org.pf4j.PluginState;
import org.pf4j.PluginStateEvent;
import org.pf4j.PluginStatusProvider;
import org.pf4j.PluginWrapper;
import org.pf4j.RuntimeMode;
import org.pf4j.VersionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * PF4J set up the way cryo needs it: plugin jars only ({@link JarPluginLoader} + manifest descriptors, read once
 * through {@link PluginJars}), never development mode or class-path plugins, extensions from
 * {@code META-INF/extensions.idx} only, plugin class loaders that see an allowlist of packages
 * ({@link IsolatingPluginClassLoader}), the system version {@link Spi#VERSION}, and a read-only status provider
 * over cryo's configuration (PF4J never writes {@code enabled.txt}/{@code disabled.txt}).
 *
 * <p>{@link PluginHost} decides which jars to load and calls {@link #loadFromPath} for each; PF4J's
 * {@code loadPlugins()} (which logs and continues) is not used. Used on one thread.
 */
final class CryoPluginManager extends AbstractPluginManager {
    private static final Logger LOG = LoggerFactory.getLogger(CryoPluginManager.class);

    /** {@link #requiresMatches} by normalised constraint. */
    private final Map<String, Boolean> requiresChecked = new HashMap<>();

    /** Enabled plugin ids; set right after construction (PF4J calls the factories from its constructor). */
    private volatile Set<String> enabled = Set.of();

    CryoPluginManager(Path pluginsDir) {
        super(pluginsDir);
        setSystemVersion(Spi.VERSION);
    }

    void setEnabled(Set<String> ids) {
        this.enabled = Set.copyOf(ids);
    }

    /** Loads one plugin jar; PF4J's own exception (descriptor, class loader) propagates. */
    PluginWrapper loadFromPath(Path jar) {
        return loadPluginFromPath(jar);
    }

    /** Resolves dependencies of everything loaded so far; PF4J's exception propagates. */
    void resolve() {
        resolvePlugins();
    }

    /**
     * Starts one resolved plugin like PF4J's {@code startPlugins()} does, except that a failure propagates
     * instead of being logged (PF4J 3.15 logs it with a stack trace and marks the plugin FAILED).
     *
     * @throws Exception whatever {@code Plugin.start()} threw, or a {@link PluginRuntimeException} when the
     *                   {@code Plugin-Class} cannot be created
     */
    void startOrThrow(PluginWrapper w) throws Exception {
        PluginState previous = w.getPluginState();
        if (previous == PluginState.STARTED) {
            return;
        }
        String pluginClass = w.getDescriptor().getPluginClass();
        if (pluginClass != null && !pluginClass.isBlank()) {
            Class<?> c = w.getPluginClassLoader().loadClass(pluginClass);
            if (!Plugin.class.isAssignableFrom(c)) {
                throw new PluginRuntimeException("Plugin-Class " + pluginClass + " does not extend org.pf4j.Plugin");
            }
        }
        Plugin plugin = w.getPlugin();
        if (plugin == null) {
            throw new PluginRuntimeException("Plugin-Class " + pluginClass
                    + " cannot be created (it needs a public no-argument constructor)");
        }
        try {
            plugin.start();
        } catch (Exception | LinkageError e) {
            w.setPluginState(PluginState.FAILED);
            w.setFailedException(e);
            throw e;
        }
        w.setPluginState(PluginState.STARTED);
        startedPlugins.add(w);
        firePluginStateEvent(new PluginStateEvent(this, w, previous));
    }

    /** Stops every started plugin, last started first, then unloads every plugin; never throws. */
    void stopAndUnloadAll() {
        List<PluginWrapper> started = new ArrayList<>(startedPlugins);
        Collections.reverse(started);
        for (PluginWrapper w : started) {
            try {
                w.getPlugin().stop();
                w.setPluginState(PluginState.STOPPED);
                firePluginStateEvent(new PluginStateEvent(this, w, PluginState.STARTED));
            } catch (RuntimeException | LinkageError e) {
                LOG.warn("plugin '{}': stop() failed: {}", w.getPluginId(), e.toString());
            } finally {
                startedPlugins.remove(w);
            }
        }
        for (PluginWrapper w : new ArrayList<>(getPlugins())) {
            try {
                unloadPlugin(w.getPluginId());
            } catch (RuntimeException e) {
                LOG.warn("plugin '{}': unloading failed: {}", w.getPluginId(), e.toString());
            }
        }
    }

    /** Normalises a {@code Plugin-Requires} as PF4J does ({@code 1.2.3} means {@code >=1.2.3}). */
    boolean requiresMatches(String requires) {
        String r = requires == null ? "" : requires.strip();
        if (r.isEmpty() || r.equals("*")) {
            return true;
        }
        if (!isExactVersionAllowed() && plainVersion(r, false) != null) {
            r = ">=" + r;
        }
        // every bundled plugin requires the same range: parsed once, not once per plugin
        return requiresChecked.computeIfAbsent(r, c -> getVersionManager().checkVersionConstraint(Spi.VERSION, c));
    }

    /**
     * PF4J's version manager, answering the common form of constraint without its expression parser (jsemver), which
     * PF4J runs for every plugin it loads and cryo for every plugin it checks: ~10 ms of a small command's start-up
     * (JFR, issue 13).
     */
    static final class FastVersionManager extends DefaultVersionManager {
        @Override
        public boolean checkVersionConstraint(String version, String constraint) {
            Boolean simple = constraint == null ? null : simpleConstraint(constraint, plainVersion(version, true));
            return simple != null ? simple : super.checkVersionConstraint(version, constraint);
        }
    }

    /**
     * Checks the common form of a constraint without PF4J's expression parser: comparisons joined by {@code &}, each
     * an operator ({@code >=}, {@code >}, {@code <=}, {@code <}, {@code =}) and a plain {@code X.Y.Z}, compared by
     * number as semantic versioning does.
     *
     * @return whether {@code version} meets {@code constraint}; null when the constraint has any other form (or
     *     {@code version} is null), for PF4J's parser to decide
     */
    static Boolean simpleConstraint(String constraint, int[] version) {
        if (version == null) {
            return null;
        }
        boolean all = true;
        for (String term : constraint.split("&", -1)) {
            String t = trimAscii(term);
            int op = 0; // the operator's length
            while (op < t.length() && "<>=".indexOf(t.charAt(op)) >= 0) {
                op++;
            }
            int[] bound = plainVersion(trimAscii(t.substring(op)), true);
            if (bound == null) {
                return null;
            }
            int c = java.util.Arrays.compare(version, bound);
            switch (t.substring(0, op)) {
                case ">=" -> all &= c >= 0;
                case ">" -> all &= c > 0;
                case "<=" -> all &= c <= 0;
                case "<" -> all &= c < 0;
                case "=" -> all &= c == 0;
                default -> {
                    return null;
                }
            }
        }
        return all;
    }

    /** @return {@code s} without the ASCII white space jsemver's lexer skips (not String.strip's Unicode spaces) */
    private static String trimAscii(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && " \t\n\u000b\f\r".indexOf(s.charAt(from)) >= 0) {
            from++;
        }
        while (to > from && " \t\n\u000b\f\r".indexOf(s.charAt(to - 1)) >= 0) {
            to--;
        }
        return s.substring(from, to);
    }

    /**
     * @param strict whether a number with a leading zero or more than 9 digits is refused (the first is semantic
     *               versioning's rule), or taken: any three dot-separated runs of digits, as PF4J normalises
     * @return the three numbers of a plain {@code X.Y.Z} (ASCII digits only, no sign, pre-release or build), or null
     */
    static int[] plainVersion(String v, boolean strict) {
        if (v == null) {
            return null;
        }
        String[] parts = v.split("\\.", -1);
        if (parts.length != 3) {
            return null;
        }
        int[] n = new int[3];
        for (int i = 0; i < 3; i++) {
            String p = parts[i];
            if (p.isEmpty() || (strict && (p.length() > 9 || (p.length() > 1 && p.charAt(0) == '0')))) {
                return null;
            }
            for (int k = 0; k < p.length(); k++) {
                if (p.charAt(k) < '0' || p.charAt(k) > '9') {
                    return null;
                }
            }
            n[i] = strict ? Integer.parseInt(p) : 0;
        }
        return n;
    }

    @Override
    public RuntimeMode getRuntimeMode() {
        return RuntimeMode.DEPLOYMENT;
    }

    @Override
    protected PluginRepository createPluginRepository() {
        // PluginHost hands PF4J each jar itself (loadFromPath); nothing is discovered or deleted through here
        return new PluginRepository() {
            @Override
            public List<Path> getPluginPaths() {
                return List.of();
            }

            @Override
            public boolean deletePluginPath(Path pluginPath) {
                return false;
            }
        };
    }

    @Override
    protected PluginFactory createPluginFactory() {
        return new DefaultPluginFactory();
    }

    @Override
    protected ExtensionFactory createExtensionFactory() {
        return new DefaultExtensionFactory();
    }

    @Override
    protected PluginDescriptorFinder createPluginDescriptorFinder() {
        return new PluginJars.Descriptors(); // the manifest PluginHost read already
    }

    @Override
    protected ExtensionFinder createExtensionFinder() {
        LegacyExtensionFinder finder = new LegacyExtensionFinder(this);
        addPluginStateListener(finder);
        return finder;
    }

    @Override
    protected PluginStatusProvider createPluginStatusProvider() {
        return new PluginStatusProvider() {
            @Override
            public boolean isPluginDisabled(String pluginId) {
                return !enabled.contains(pluginId);
            }

            @Override
            public void disablePlugin(String pluginId) {
                throw readOnly(pluginId);
            }

            @Override
            public void enablePlugin(String pluginId) {
                throw readOnly(pluginId);
            }
        };
    }

    @Override
    protected PluginLoader createPluginLoader() {
        ClassLoader shared = CryoPluginManager.class.getClassLoader();
        return new JarPluginLoader(this) {
            @Override
            protected PluginClassLoader createPluginClassLoader(Path pluginPath, PluginDescriptor descriptor) {
                return new IsolatingPluginClassLoader(pluginManager, descriptor, shared, pluginPath);
            }
        };
    }

    @Override
    protected VersionManager createVersionManager() {
        return new FastVersionManager();
    }

    /** A throw-away class loader for looking at a plugin that is not loaded (no class is initialised). */
    IsolatingPluginClassLoader inspectionLoader(Path jar, PluginDescriptor descriptor) {
        IsolatingPluginClassLoader loader = new IsolatingPluginClassLoader(this, descriptor,
                CryoPluginManager.class.getClassLoader(), jar);
        loader.addFile(jar.toFile());
        return loader;
    }

    private static PluginRuntimeException readOnly(String pluginId) {
        return new PluginRuntimeException("plugin '" + pluginId + "': which plugins are enabled is read from "
                + "plugins.enabled / plugins.disabled in conf/cryo.conf and cannot be changed at run time");
    }
}
