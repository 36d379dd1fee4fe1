package dev.cryo.core.plugin;

import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.ExternalPeerHandler;
import dev.cryo.api.FdHandler;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.MemoryHandler;
import dev.cryo.api.PluginOption;
import dev.cryo.api.Spi;
import dev.cryo.core.config.ConfigEntry;
import dev.cryo.core.config.ConfigKeys;
import dev.cryo.core.config.CryoConfig;
import dev.cryo.core.config.FileTrust;
import org.pf4j.Extension;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The plugins of one cryo command, loaded with PF4J from the distribution's {@code plugins/} directory only.
 *
 * <p>{@link #start} finds every plugin jar of the directory, decides from the configuration which are enabled
 * ({@code plugins.enabled}: if given, only those; {@code plugins.disabled} wins over it), checks each enabled
 * plugin's {@code Plugin-Requires} against {@link Spi#VERSION}, loads and starts the enabled ones in their own
 * {@link IsolatingPluginClassLoader class loaders} (which see only {@code dev.cryo.api}, {@code org.pf4j},
 * {@code com.google.protobuf}, {@code org.slf4j} and the JDK), and instantiates their extensions once, from
 * their {@code META-INF/extensions.idx}. Disabled plugins are never loaded or started; they are only listed.
 *
 * <p>Unlike PF4J, which logs a broken plugin and carries on, every problem with an enabled plugin is an error:
 * an unreadable jar, a bad manifest, an excluded SPI version, a class that does not load, an exception from
 * {@code Plugin.start()}, a plugin contributing no extension, two handlers of one kind. Errors are
 * {@link CryoException}s of category PLUGIN_CONFIG naming the plugin, its file and the fix; codes
 * {@code core/PLUGINS_DIR_MISSING}, {@code core/PLUGIN_LOAD}, {@code core/PLUGIN_REQUIRES},
 * {@code core/PLUGIN_EMPTY}, {@code core/PLUGIN_NOT_FOUND}, {@code core/PLUGIN_DUPLICATE},
 * {@code core/DUPLICATE_KIND}, and, run as root, {@code core/UNSAFE_FILE} for a plugin directory or jar another user
 * could change ({@link FileTrust}).
 *
 * <p>Options: {@link #declaredOptions} reads every plugin's {@link PluginOption}s from its class files without
 * running its code; {@link #start} refuses a configuration that sets an option of a disabled plugin
 * ({@code core/PLUGIN_OPTION_DISABLED}), naming the option, where it was set and the plugin.
 *
 * <p>Lifecycle: one host per command, started once, {@link #close() closed} once when the command ends.
 * Accessors return immutable lists in dispatch order — ascending {@code priority()}, then plugin id, then extension
 * class name — safe from any thread. Extensions are single instances for the host's lifetime.
 */
public final class PluginHost implements AutoCloseable, HandlerRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(PluginHost.class);
    private static final String INDEX = PluginJars.INDEX;
    private static final List<Class<?>> POINTS = List.of(FdHandler.class, MemoryHandler.class,
            ExternalPeerHandler.class, LifecycleListener.class);

    /**
     * A plugin found in the plugin directory but not loaded, with why and how to enable it, for messages such
     * as "fd 3 is a pipe; the plugin 'pipe' that would handle it is disabled (plugins.disabled at
     * /etc/cryo/cryo.conf:3)".
     *
     * @param info   the plugin
     * @param reason why it is disabled, e.g. {@code plugins.disabled at /etc/cryo/cryo.conf:3} or
     *               {@code not listed in plugins.enabled (conf/cryo.conf:2)}
     * @param fix    what enables it, e.g. {@code remove 'pipe' from plugins.disabled at /etc/cryo/cryo.conf:3}
     */
    public record DisabledPlugin(PluginInfo info, String reason, String fix) {
    }

    private final Path pluginsDir;
    private final CryoPluginManager manager;
    private final List<PluginInfo> plugins;
    private final Map<String, DisabledPlugin> disabled;
    private final List<FdHandler> fdHandlers;
    private final List<MemoryHandler> memoryHandlers;
    private final List<ExternalPeerHandler> externalPeerHandlers;
    private final List<LifecycleListener> lifecycleListeners;
    private final Map<Object, String> owners;
    private boolean closed;

    private PluginHost(Path pluginsDir, CryoPluginManager manager, List<PluginInfo> plugins,
                       Map<String, DisabledPlugin> disabled, Extensions ext) {
        this.pluginsDir = pluginsDir;
        this.manager = manager;
        this.plugins = List.copyOf(plugins);
        this.disabled = disabled;
        this.fdHandlers = List.copyOf(ext.fd);
        this.memoryHandlers = List.copyOf(ext.memory);
        this.externalPeerHandlers = List.copyOf(ext.external);
        this.lifecycleListeners = List.copyOf(ext.lifecycle);
        this.owners = ext.owners;
    }

    /**
     * Loads and starts the plugins of {@code pluginsDir} that {@code config} enables. Called once per command,
     * on the CLI's thread. On failure everything loaded so far is unloaded again.
     *
     * @param pluginsDir the directory of plugin jars ({@code *.jar}; other files are ignored)
     * @param config     the effective options ({@code plugins.enabled}, {@code plugins.disabled})
     */
    public static PluginHost start(Path pluginsDir, Config config) throws CryoException {
        Objects.requireNonNull(pluginsDir, "pluginsDir");
        Objects.requireNonNull(config, "config");
        if (!Files.isDirectory(pluginsDir)) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/PLUGINS_DIR_MISSING",
                    "plugin directory " + pluginsDir + " does not exist",
                    "reinstall cryo, or point -Dcryo.home at the distribution directory (it holds plugins/)");
        }
        CryoPluginManager manager = new CryoPluginManager(pluginsDir);
        try {
            return load(pluginsDir, config, manager);
        } catch (CryoException | RuntimeException | Error e) {
            shutdown(manager);
            throw e;
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    /** A jar of the plugin directory and its manifest descriptor. */
    private record Found(Path jar, PluginDescriptor descriptor) {
        String id() {
            return descriptor.getPluginId();
        }
    }

    /** Extensions of the enabled plugins, collected in plugin-id order. */
    private static final class Extensions {
        final List<FdHandler> fd = new ArrayList<>();
        final List<MemoryHandler> memory = new ArrayList<>();
        final List<ExternalPeerHandler> external = new ArrayList<>();
        final List<LifecycleListener> lifecycle = new ArrayList<>();
        final Map<Object, String> owners = new IdentityHashMap<>();
        final Map<String, String> kindOwners = new LinkedHashMap<>();

        /** Dispatch order: priority, then plugin id (collection order), then class name. */
        void sort() {
            sortByPriority(fd);
            sortByPriority(memory);
            sortByPriority(external);
            sortByPriority(lifecycle);
        }

        /** Stable: equal priorities keep their order (a comparator class, not lambdas: see ByOrdinalThenName). */
        private static <T extends dev.cryo.api.Ordered> void sortByPriority(List<T> list) {
            list.sort(new Comparator<T>() {
                @Override
                public int compare(T a, T b) {
                    return Integer.compare(a.priority(), b.priority());
                }
            });
        }
    }

    /**
     * The options every plugin jar of {@code pluginsDir} declares, enabled or not, by plugin id. Reads the
     * {@link PluginOption} annotations of the classes in each jar's extension index from their class files
     * ({@link ClassFileAnnotations}, kept per jar by {@link PluginJars} with their {@code @Extension} ordinals): no
     * plugin class is loaded and none of the plugins' code runs. Called once per command, before the config chain is
     * read.
     *
     * @throws CryoException (PLUGIN_CONFIG) for an unreadable plugin file, like {@link #start}
     */
    public static Map<String, List<PluginOption>> declaredOptions(Path pluginsDir) throws CryoException {
        Map<String, List<PluginOption>> out = new TreeMap<>();
        if (!Files.isDirectory(pluginsDir)) {
            return out;
        }
        for (Found f : discover(pluginsDir).values()) {
            List<PluginOption> options = new ArrayList<>();
            try {
                PluginJars.Read read = PluginJars.read(f.jar());
                for (String name : read.indexed()) {
                    PluginJars.IndexedClass c = read.classes().get(name);
                    if (c.optionsProblem() != null) {
                        LOG.debug("plugin '{}': {}", f.id(), c.optionsProblem());
                    }
                    options.addAll(c.options());
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("plugin '{}': cannot read its options: {}", f.id(), e.toString());
            }
            out.put(f.id(), options);
        }
        return out;
    }

    /** An option of a disabled plugin set anywhere in the chain is an error naming both. */
    private static void checkOptionsOfDisabled(Config config, Map<String, DisabledPlugin> disabled)
            throws CryoException {
        if (!(config instanceof CryoConfig c)) {
            return;
        }
        for (Map.Entry<String, String> set : c.explicitlySet().entrySet()) {
            Optional<String> owner = c.options().find(set.getKey()).flatMap(ConfigKeys.Key::plugin);
            if (owner.isPresent() && disabled.containsKey(owner.get())) {
                DisabledPlugin d = disabled.get(owner.get());
                String source = set.getValue();
                String spelled = source.equals(ConfigEntry.COMMAND_LINE) ? "--" + set.getKey()
                        : "`" + set.getKey() + "` (" + source + ")";
                throw new CryoException(Category.PLUGIN_CONFIG, "core/PLUGIN_OPTION_DISABLED",
                        "option " + spelled + " belongs to plugin '" + owner.get() + "', which is disabled ("
                                + d.reason() + ")",
                        d.fix() + ", or drop " + spelled);
            }
        }
    }

    private static PluginHost load(Path dir, Config config, CryoPluginManager manager) throws CryoException {
        Map<String, Found> found = discover(dir);

        Map<String, String> enabledBy = idsWithSources(config, ConfigKeys.PLUGINS_ENABLED);
        Map<String, String> disabledBy = idsWithSources(config, ConfigKeys.PLUGINS_DISABLED);
        for (String key : List.of(ConfigKeys.PLUGINS_ENABLED, ConfigKeys.PLUGINS_DISABLED)) {
            Map<String, String> named = key.equals(ConfigKeys.PLUGINS_ENABLED) ? enabledBy : disabledBy;
            for (Map.Entry<String, String> e : named.entrySet()) {
                if (!found.containsKey(e.getKey())) {
                    throw new CryoException(Category.PLUGIN_CONFIG, "core/PLUGIN_NOT_FOUND",
                            key + " names plugin '" + e.getKey() + "' (" + e.getValue() + "), but " + dir
                                    + " holds no plugin with that id (found: "
                                    + (found.isEmpty() ? "none" : String.join(", ", found.keySet())) + ")",
                            "correct the id or remove it from " + key + " at " + e.getValue()
                                    + ", or put the plugin's jar into " + dir);
                }
            }
        }

        Map<String, DisabledPlugin> disabledInfo = new TreeMap<>();
        Map<String, Found> enabled = new TreeMap<>();
        for (Found f : found.values()) {
            String id = f.id();
            if (disabledBy.containsKey(id)) {
                String where = disabledBy.get(id);
                disabledInfo.put(id, new DisabledPlugin(null, "plugins.disabled at " + where,
                        "remove '" + id + "' from plugins.disabled at " + where));
            } else if (!enabledBy.isEmpty() && !enabledBy.containsKey(id)) {
                String where = String.join(", ", new LinkedHashSet<>(enabledBy.values()));
                disabledInfo.put(id, new DisabledPlugin(null, "not listed in plugins.enabled (" + where + ")",
                        "add '" + id + "' to plugins.enabled (" + where + ")"));
            } else {
                enabled.put(id, f);
            }
        }

        checkOptionsOfDisabled(config, disabledInfo);
        for (Found f : enabled.values()) {
            checkRequires(manager, f);
        }
        manager.setEnabled(enabled.keySet());

        Map<String, PluginWrapper> wrappers = new TreeMap<>();
        for (Found f : enabled.values()) {
            PluginWrapper w;
            try {
                w = manager.loadFromPath(f.jar());
            } catch (RuntimeException e) {
                throw loadError(f, dir, "cannot be loaded", e);
            }
            if (w.getPluginState() == PluginState.DISABLED || w.getPluginState() == PluginState.FAILED) {
                throw loadError(f, dir, "was refused by PF4J", w.getFailedException());
            }
            wrappers.put(f.id(), w);
        }
        try {
            manager.resolve();
        } catch (RuntimeException e) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/PLUGIN_LOAD",
                    "the Plugin-Dependencies of the enabled plugins in " + dir + " cannot be resolved: " + describe(e),
                    "enable the plugins named there, or add the plugins that need them to plugins.disabled "
                            + "in conf/cryo.conf", e);
        }
        for (PluginWrapper w : manager.getUnresolvedPlugins()) {
            Found f = enabled.get(w.getPluginId());
            throw loadError(f, dir, "has unresolved Plugin-Dependencies "
                    + w.getDescriptor().getDependencies(), null);
        }

        for (PluginWrapper w : manager.getResolvedPlugins()) {
            try {
                manager.startOrThrow(w);
            } catch (Exception | LinkageError e) {
                throw loadError(enabled.get(w.getPluginId()), dir, "failed to start", e);
            }
        }
        for (PluginWrapper w : wrappers.values()) {
            if (w.getPluginState() != PluginState.STARTED) {
                throw loadError(enabled.get(w.getPluginId()), dir, "was not started (state "
                        + w.getPluginState() + ")", w.getFailedException());
            }
        }

        Extensions ext = new Extensions();
        List<PluginInfo> infos = new ArrayList<>();
        for (Found f : enabled.values()) {
            List<String> points = instantiate(manager, wrappers.get(f.id()), f, dir, ext);
            infos.add(info(f, true, points));
        }
        Map<String, DisabledPlugin> disabledFinal = new TreeMap<>();
        for (Map.Entry<String, DisabledPlugin> e : disabledInfo.entrySet()) {
            Found f = found.get(e.getKey());
            PluginInfo info = info(f, false, inspect(manager, f));
            infos.add(info);
            disabledFinal.put(e.getKey(), new DisabledPlugin(info, e.getValue().reason(), e.getValue().fix()));
        }
        infos.sort(new Comparator<PluginInfo>() { // not Comparator.comparing: see ByOrdinalThenName
            @Override
            public int compare(PluginInfo a, PluginInfo b) {
                return a.id().compareTo(b.id());
            }
        });
        ext.sort();
        LOG.debug("plugins enabled: {}; disabled: {}", enabled.keySet(), disabledFinal.keySet());
        return new PluginHost(dir, manager, infos, disabledFinal, ext);
    }

    /**
     * Reads the descriptor of every {@code *.jar} in {@code dir}, by file name; an unreadable one is an error, and
     * so is (run as root) an unsafe directory or jar ({@link FileTrust}), enabled or not: its class files are read.
     */
    private static Map<String, Found> discover(Path dir) throws CryoException {
        FileTrust trust = FileTrust.current();
        trust.check(dir, "plugin directory");
        List<Path> jars;
        try (Stream<Path> s = Files.list(dir)) {
            jars = s.filter(p -> p.getFileName().toString().endsWith(".jar"))
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(Files::isRegularFile)
                    .sorted().toList();
        } catch (IOException e) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/PLUGINS_DIR_MISSING",
                    "cannot list plugin directory " + dir + ": " + e, "make it readable by the user running cryo", e);
        }
        Map<String, Found> found = new TreeMap<>();
        for (Path jar : jars) {
            trust.check(jar, "plugin jar");
            PluginDescriptor d;
            try {
                d = PluginJars.read(jar).descriptor();
            } catch (IOException | RuntimeException e) {
                throw unreadable(jar, dir, describe(e), e);
            }
            if (d == null) {
                throw unreadable(jar, dir, "it has no manifest", null);
            }
            if (d.getPluginId() == null || d.getPluginId().isBlank()) {
                throw unreadable(jar, dir, "its manifest has no Plugin-Id", null);
            }
            if (d.getVersion() == null || d.getVersion().isBlank()) {
                throw unreadable(jar, dir, "its manifest has no Plugin-Version", null);
            }
            Found previous = found.put(d.getPluginId(), new Found(jar, d));
            if (previous != null) {
                throw new CryoException(Category.PLUGIN_CONFIG, "core/PLUGIN_DUPLICATE",
                        "plugin id '" + d.getPluginId() + "' is provided by both " + previous.jar().getFileName()
                                + " and " + jar.getFileName() + " in " + dir,
                        "remove one of them from " + dir);
            }
        }
        return found;
    }

    private static void checkRequires(CryoPluginManager manager, Found f) throws CryoException {
        String requires = f.descriptor().getRequires();
        boolean ok;
        try {
            ok = manager.requiresMatches(requires);
        } catch (RuntimeException e) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/PLUGIN_REQUIRES",
                    "plugin '" + f.id() + "' (" + f.jar() + ") has an unreadable Plugin-Requires '" + requires
                            + "': " + describe(e),
                    "use a plugin built for cryo SPI " + Spi.VERSION + ", or add '" + f.id()
                            + "' to plugins.disabled in conf/cryo.conf", e);
        }
        if (!ok) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/PLUGIN_REQUIRES",
                    "plugin '" + f.id() + "' " + f.descriptor().getVersion() + " (" + f.jar()
                            + ") requires SPI '" + requires + "', but this cryo implements SPI " + Spi.VERSION,
                    "install a version of '" + f.id() + "' built for SPI " + Spi.VERSION + ", or add '" + f.id()
                            + "' to plugins.disabled in conf/cryo.conf");
        }
    }

    /** Creates each extension a started plugin lists; returns the extension points it provides. */
    private static List<String> instantiate(CryoPluginManager manager, PluginWrapper w, Found f, Path dir,
                                            Extensions ext) throws CryoException {
        PluginJars.Read read;
        List<String> names;
        try {
            read = PluginJars.read(f.jar()); // what PF4J's getExtensionClassNames reads, read once
            names = read.indexed();
        } catch (IOException e) {
            throw loadError(f, dir, "has an unreadable " + INDEX, e);
        }
        if (names.isEmpty()) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/PLUGIN_EMPTY",
                    "plugin '" + f.id() + "' (" + f.jar() + ") contributes no extension: its " + INDEX
                            + " is missing or empty",
                    "build the plugin with pf4j's annotation processor on so that its @Extension classes are "
                            + "listed in " + INDEX + ", or add '" + f.id() + "' to plugins.disabled in conf/cryo.conf");
        }
        List<Class<?>> classes = new ArrayList<>();
        for (String name : names) {
            try {
                classes.add(w.getPluginClassLoader().loadClass(name));
            } catch (ClassNotFoundException | LinkageError e) {
                throw loadError(f, dir, "lists extension " + name + " in " + INDEX + ", which cannot be loaded", e);
            }
        }
        Map<Class<?>, Integer> ordinals = new HashMap<>();
        for (Class<?> c : classes) {
            PluginJars.IndexedClass indexed = read.classes().get(c.getName());
            if (indexed != null && indexed.ordinal() != null) {
                ordinals.put(c, indexed.ordinal());
            } else {
                // no @Extension of its own (an inherited one counts) or no class file in the jar: ask reflection
                Extension e = c.getAnnotation(Extension.class);
                ordinals.put(c, e == null ? 0 : e.ordinal());
            }
        }
        classes.sort(new ByOrdinalThenName(ordinals));

        List<String> points = new ArrayList<>();
        for (Class<?> c : classes) {
            if (!implementsAPoint(c)) {
                throw loadError(f, dir, "lists extension " + c.getName() + " in " + INDEX + ", which implements"
                        + " no cryo extension point (FdHandler, MemoryHandler, ExternalPeerHandler,"
                        + " LifecycleListener; is dev.cryo.api bundled into the plugin jar?)", null);
            }
            Object instance;
            try {
                instance = c.getDeclaredConstructor().newInstance();
            } catch (InvocationTargetException e) {
                throw loadError(f, dir, "failed to create extension " + c.getName(), e.getCause());
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                throw loadError(f, dir, "cannot create extension " + c.getName()
                        + " (it needs a public no-argument constructor)", e);
            }
            ext.owners.put(instance, f.id());
            if (instance instanceof FdHandler h) {
                points.add("FdHandler[" + kind(f, dir, c, "FdHandler", h, ext) + "]");
                ext.fd.add(h);
            }
            if (instance instanceof MemoryHandler h) {
                points.add("MemoryHandler[" + kind(f, dir, c, "MemoryHandler", h, ext) + "]");
                ext.memory.add(h);
            }
            if (instance instanceof ExternalPeerHandler h) {
                points.add("ExternalPeerHandler[" + kind(f, dir, c, "ExternalPeerHandler", h, ext) + "]");
                ext.external.add(h);
            }
            if (instance instanceof LifecycleListener l) {
                points.add("LifecycleListener");
                ext.lifecycle.add(l);
            }
        }
        return points;
    }

    private static String kind(Found f, Path dir, Class<?> c, String point, dev.cryo.api.ResourceHandler handler,
                               Extensions ext) throws CryoException {
        String k;
        try {
            k = handler.kind();
        } catch (RuntimeException | LinkageError e) {
            throw loadError(f, dir, "extension " + c.getName() + " fails in kind()", e);
        }
        if (k == null || k.isBlank()) {
            throw loadError(f, dir, "extension " + c.getName() + " returns no kind()", null);
        }
        String owner = ext.kindOwners.putIfAbsent(point + "[" + k + "]", f.id());
        if (owner != null) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/DUPLICATE_KIND",
                    "plugins '" + owner + "' and '" + f.id() + "' both provide a " + point + " of kind '" + k + "'",
                    "add one of them to plugins.disabled in conf/cryo.conf");
        }
        return k;
    }

    private static boolean implementsAPoint(Class<?> c) {
        for (Class<?> p : POINTS) {
            if (p.isAssignableFrom(c)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Extension classes by ordinal, then name. A class, not {@code Comparator.comparing(...)} of lambdas: linking
     * those call sites was ~5% of loading the plugins on a small command's start-up (JFR, issue 13).
     */
    private static final class ByOrdinalThenName implements Comparator<Class<?>> {
        private final Map<Class<?>, Integer> ordinals;

        ByOrdinalThenName(Map<Class<?>, Integer> ordinals) {
            this.ordinals = ordinals;
        }

        @Override
        public int compare(Class<?> a, Class<?> b) {
            int c = Integer.compare(ordinals.get(a), ordinals.get(b));
            return c != 0 ? c : a.getName().compareTo(b.getName());
        }
    }

    /**
     * The extension points of a plugin that is not loaded, from its index: its classes are loaded in a
     * throw-away class loader without being initialised, so none of its code runs. Best effort: a disabled
     * plugin may well be broken, which is no error; what cannot be read is left out.
     */
    private static List<String> inspect(CryoPluginManager manager, Found f) {
        List<String> points = new ArrayList<>();
        try (IsolatingPluginClassLoader loader = manager.inspectionLoader(f.jar(), f.descriptor())) {
            for (String name : PluginJars.read(f.jar()).indexed()) { // read for the options already
                try {
                    Class<?> c = Class.forName(name, false, loader);
                    for (Class<?> p : POINTS) {
                        if (p.isAssignableFrom(c)) {
                            points.add(p.getSimpleName());
                        }
                    }
                } catch (ClassNotFoundException | LinkageError e) {
                    LOG.debug("disabled plugin '{}': cannot inspect {}: {}", f.id(), name, e.toString());
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("disabled plugin '{}': cannot inspect {}: {}", f.id(), f.jar(), e.toString());
        }
        return points;
    }

    private static PluginInfo info(Found f, boolean enabled, List<String> points) {
        PluginDescriptor d = f.descriptor();
        return new PluginInfo(d.getPluginId(), d.getVersion(), Objects.requireNonNullElse(d.getRequires(), "*"),
                enabled, List.copyOf(points), f.jar(), Objects.requireNonNullElse(d.getPluginDescription(), ""));
    }

    /** Plugin ids named by a repeatable key, each with where it was named. */
    private static Map<String, String> idsWithSources(Config config, String key) {
        List<String> values = config.values(key);
        List<String> sources = config instanceof CryoConfig c ? c.sources(key) : List.of();
        Map<String, String> ids = new LinkedHashMap<>();
        for (int i = 0; i < values.size(); i++) {
            String source = i < sources.size() ? sources.get(i) : key;
            for (String id : values.get(i).split(",")) {
                if (!id.isBlank()) {
                    ids.putIfAbsent(id.strip(), source);
                }
            }
        }
        return ids;
    }

    private static CryoException unreadable(Path jar, Path dir, String why, Throwable cause) {
        return new CryoException(Category.PLUGIN_CONFIG, "core/PLUGIN_LOAD",
                "plugin file " + jar + " is not a readable plugin: " + why,
                "remove or replace " + jar.getFileName() + " in " + dir + " (a cryo plugin is a jar whose manifest"
                        + " has Plugin-Id, Plugin-Version and Plugin-Requires)", cause);
    }

    private static CryoException loadError(Found f, Path dir, String what, Throwable cause) {
        return new CryoException(Category.PLUGIN_CONFIG, "core/PLUGIN_LOAD",
                "plugin '" + f.id() + "' (" + f.jar() + ") " + what + (cause == null ? "" : ": " + describe(cause)),
                "remove " + f.jar().getFileName() + " from " + dir + " or add '" + f.id()
                        + "' to plugins.disabled in conf/cryo.conf", cause);
    }

    /** The messages of a cause chain, each once: {@code IllegalStateException: boom}. */
    private static String describe(Throwable t) {
        Set<String> parts = new LinkedHashSet<>();
        for (Throwable c = t; c != null && parts.size() < 4; c = c.getCause() == c ? null : c.getCause()) {
            String m = c.getMessage();
            parts.add(c instanceof org.pf4j.PluginRuntimeException && m != null ? m
                    : c.getClass().getSimpleName() + (m == null ? "" : ": " + m));
        }
        return String.join("; caused by ", parts);
    }

    private static void shutdown(CryoPluginManager manager) {
        manager.stopAndUnloadAll();
    }

    // ---------------------------------------------------------------------------------------------------------

    /** @return the fd handlers of the enabled plugins, in dispatch order */
    public List<FdHandler> fdHandlers() {
        return fdHandlers;
    }

    /** @return the memory handlers of the enabled plugins, in dispatch order */
    public List<MemoryHandler> memoryHandlers() {
        return memoryHandlers;
    }

    /** @return the external-peer handlers of the enabled plugins, in dispatch order */
    public List<ExternalPeerHandler> externalPeerHandlers() {
        return externalPeerHandlers;
    }

    /** @return the lifecycle listeners of the enabled plugins, in dispatch order */
    public List<LifecycleListener> lifecycleListeners() {
        return lifecycleListeners;
    }

    /**
     * @return every plugin of the plugin directory, enabled or not, by id; an enabled plugin lists its extension
     *         points with their kinds ({@code FdHandler[pipe]}), a disabled one only the point names read from
     *         its index ({@code FdHandler})
     */
    public List<PluginInfo> plugins() {
        return plugins;
    }

    public Optional<PluginInfo> plugin(String id) {
        for (PluginInfo p : plugins) { // a loop, no stream of lambdas: asked while a tree is frozen (issue 13)
            if (p.id().equals(id)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * @return the id of the plugin that contributed {@code extension}
     * @throws IllegalArgumentException when it is not an extension of this host
     */
    public String pluginIdOf(Object extension) {
        String id = owners.get(extension);
        if (id == null) {
            throw new IllegalArgumentException("not an extension of this plugin host: " + extension);
        }
        return id;
    }

    /** @return the plugins found but not enabled, by id */
    public List<DisabledPlugin> disabledPlugins() {
        return List.copyOf(disabled.values());
    }

    /** @return the plugin {@code pluginId} if it was found but is not enabled, with why and how to enable it */
    public Optional<DisabledPlugin> disabledPlugin(String pluginId) {
        return Optional.ofNullable(disabled.get(pluginId));
    }

    /** @return the ids of the plugins found but not enabled, by id */
    public List<String> disabledPluginIds() {
        return List.copyOf(disabled.keySet());
    }

    /** @return the directory plugins were loaded from */
    public Path pluginsDir() {
        return pluginsDir;
    }

    /** Stops and unloads every plugin (closing their class loaders). Idempotent; never throws. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        shutdown(manager);
    }
}
