package dev.cryo.core.plugin;

import com.google.protobuf.Message;
import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.FdHandler;
import dev.cryo.api.FdInfo;
import dev.cryo.api.LifecycleEvent;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.Pid;
import dev.cryo.api.PluginOption;
import dev.cryo.api.TargetFd;
import dev.cryo.core.config.CryoConfig;
import dev.cryo.core.config.OptionSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PluginHostTest {
    private static final String FD_HANDLER = """
            package test.%1$s;
            import com.google.protobuf.Message;
            import dev.cryo.api.*;
            /** Claims an fd whose "link" names a class this plugin can load: a probe of its class loader. */
            @org.pf4j.Extension
            public class Handler implements FdHandler {
                public String kind() { return "%2$s"; }
                public boolean probe(FdInfo fd) {
                    try { Class.forName(fd.link()); return true; } catch (ClassNotFoundException e) { return false; }
                }
                public Message collect(FdDumpContext ctx, FdInfo fd) { return null; }
                public RestoreOutcome restore(FdRestoreContext ctx) { return RestoreOutcome.DONE; }
            }
            """;

    private static final String USES_CORE = """
            package test.alpha;
            import dev.cryo.api.*;
            /** Links against a core class, which a plugin must not see. */
            @org.pf4j.Extension(ordinal = 1)
            public class UsesCore implements LifecycleListener {
                public void preDump(LifecycleEvent e) { dev.cryo.core.config.ConfigKeys.all(); }
            }
            """;

    private static final String MEMORY_HANDLER = """
            package test.beta;
            import dev.cryo.api.*;
            import java.util.List;
            @org.pf4j.Extension
            public class Memory implements MemoryHandler {
                static { System.setProperty("cryo.test.beta.initialized", "yes"); }
                public String kind() { return "beta"; }
                public boolean probe(Mapping m) { return false; }
                public void dump(MemoryDumpContext ctx, List<Mapping> mappings) { }
                public void restore(MemoryRestoreContext ctx) { }
            }
            """;

    private static final String STARTED_PLUGIN = """
            package test.%1$s;
            public class Lifecycle extends org.pf4j.Plugin {
                public void start() { %2$s }
            }
            """;

    @TempDir
    Path tmp;
    Path dir;
    Path build;

    @BeforeEach
    void setUp() throws Exception {
        dir = Files.createDirectory(tmp.resolve("plugins"));
        build = Files.createDirectory(tmp.resolve("build"));
        System.clearProperty("cryo.test.beta.initialized");
        System.clearProperty("cryo.test.beta.started");
    }

    @AfterEach
    void tearDown() {
        System.clearProperty("cryo.test.beta.initialized");
        System.clearProperty("cryo.test.beta.started");
    }

    private Path install(TestPluginJars.Spec spec) throws Exception {
        Path jar = spec.build(build);
        return Files.copy(jar, dir.resolve(jar.getFileName()));
    }

    private TestPluginJars.Spec alpha() {
        return new TestPluginJars.Spec("alpha")
                .source("test.alpha.Handler", FD_HANDLER.formatted("alpha", "alpha"))
                .source("test.alpha.UsesCore", USES_CORE)
                .index("test.alpha.Handler", "test.alpha.UsesCore");
    }

    private TestPluginJars.Spec beta() {
        return new TestPluginJars.Spec("beta")
                .manifest("Plugin-Class", "test.beta.Lifecycle")
                .source("test.beta.Memory", MEMORY_HANDLER)
                .source("test.beta.Lifecycle", STARTED_PLUGIN.formatted("beta",
                        "System.setProperty(\"cryo.test.beta.started\", \"yes\");"))
                .index("test.beta.Memory");
    }

    private static FdInfo fdNamed(String link) {
        return new FdInfo(TargetFd.of(3), link, FdInfo.S_IFREG, 1, 2, 0, 0, 0, 0, false, 0, 0);
    }

    private static final String OPTION_MEMORY_HANDLER = """
            package test.gamma;
            import dev.cryo.api.*;
            import java.util.List;
            /** Declares an option; runs last among memory handlers. */
            @org.pf4j.Extension
            @PluginOption(name = "gamma-limit", shape = PluginOption.Shape.VALUE, defaultValue = "7", help = "a limit")
            public class Memory implements MemoryHandler {
                static { System.setProperty("cryo.test.gamma.initialized", "yes"); }
                public String kind() { return "gamma"; }
                public int priority() { return LAST_RESORT; }
                public boolean probe(Mapping m) { return false; }
                public void dump(MemoryDumpContext ctx, List<Mapping> mappings) { }
                public void restore(MemoryRestoreContext ctx) { }
            }
            """;

    private TestPluginJars.Spec gamma() {
        return new TestPluginJars.Spec("gamma")
                .source("test.gamma.Memory", OPTION_MEMORY_HANDLER)
                .index("test.gamma.Memory");
    }

    @Test
    void optionsAreReadWithoutRunningPluginCode() throws Exception {
        install(gamma());
        install(alpha());
        Map<String, List<PluginOption>> declared = PluginHost.declaredOptions(dir);
        assertEquals(List.of("alpha", "gamma"), List.copyOf(declared.keySet()));
        assertEquals(List.of(), declared.get("alpha"));
        assertEquals("gamma-limit", declared.get("gamma").get(0).name());
        assertNull(System.getProperty("cryo.test.gamma.initialized"), "no class of the plugin is initialised");
        System.clearProperty("cryo.test.gamma.initialized");
    }

    @Test
    void anOptionOfADisabledPluginIsRefusedNamingIt() throws Exception {
        install(gamma());
        OptionSet options = OptionSet.withPlugins(PluginHost.declaredOptions(dir));
        CryoException e = startFails(CryoConfig.ofLines(options, "plugins.disabled gamma", "gamma-limit 9"));
        assertEquals("core/PLUGIN_OPTION_DISABLED", e.code());
        assertEquals("option `gamma-limit` (test:2) belongs to plugin 'gamma', which is disabled (plugins.disabled at"
                + " test:1)", e.getMessage());
        assertTrue(e.fix().contains("remove 'gamma' from plugins.disabled at test:1"), e.fix());
        // its default alone is no error
        PluginHost.start(dir, CryoConfig.ofLines(options, "plugins.disabled gamma")).close();
        System.clearProperty("cryo.test.gamma.initialized");
    }

    @Test
    void handlersAreOrderedByPriorityThenPluginId() throws Exception {
        install(gamma());
        install(beta());
        try (PluginHost host = PluginHost.start(dir, CryoConfig.defaults())) {
            assertEquals(List.of("beta", "gamma"), host.memoryHandlers().stream().map(h -> h.kind()).toList());
        }
        System.clearProperty("cryo.test.gamma.initialized");
    }

    /**
     * A plugin compiled against SPI 1.0.0 (cryo 0.1.0's api jar; source in core/src/test/legacy-plugin) keeps
     * loading and working: its Plugin-Requires matches 1.1, and the methods 1.1 added are defaults it inherits.
     */
    @Test
    void aPluginBuiltAgainstSpi10StillLoadsAndWorks() throws Exception {
        try (var in = getClass().getResourceAsStream("/spi-1.0/legacy-plugin-spi-1.0.jar")) {
            Files.copy(in, dir.resolve("legacy-plugin-spi-1.0.jar"));
        }
        try (PluginHost host = PluginHost.start(dir, CryoConfig.defaults())) {
            PluginInfo p = host.plugin("acme-legacy").orElseThrow();
            assertTrue(p.enabled());
            assertEquals(">=1.0.0 & <2.0.0", p.requires());
            FdHandler h = host.fdHandlers().get(0);
            assertEquals("acme/legacy", h.kind());
            assertFalse(h.probe(fdNamed("/etc/hostname")));
            assertTrue(h.probe(fdNamed("legacy:x")));
            assertEquals(0, h.priority(), "1.1 default method on a 1.0 class");
            h.finishRestore();
            assertEquals(List.of(), h.recordTypes());
            LifecycleListener l = host.lifecycleListeners().get(0);
            assertSame(h, l, "one extension object serves both points");
            l.preDump(new LifecycleEvent(tmp, Pid.of(1), CryoConfig.defaults()));
            l.onFailure(new LifecycleEvent(tmp, Pid.of(1), CryoConfig.defaults()),
                    new CryoException(CryoException.Category.INTERNAL, "test/X", "x"));
            assertEquals(1, h.getClass().getField("preDumps").getInt(null));
        }
    }

    private CryoException startFails(Config config) {
        return assertThrows(CryoException.class, () -> PluginHost.start(dir, config).close());
    }

    /** Fails unless the message of {@code e} contains each of {@code parts}. */
    private static void assertMessageContains(CryoException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), e.getMessage());
        }
    }

    /** Starting the host with the default configuration fails with {@code code}: the failure. */
    private CryoException startFails(String code) {
        CryoException e = startFails(CryoConfig.defaults());
        assertEquals(code, e.code());
        return e;
    }

    @Test
    void findsTheExtensionsOfEnabledPlugins() throws Exception {
        Path alphaJar = install(alpha());
        install(beta());
        try (PluginHost host = PluginHost.start(dir, CryoConfig.defaults())) {
            assertEquals(1, host.fdHandlers().size());
            FdHandler fd = host.fdHandlers().get(0);
            assertEquals("alpha", fd.kind());
            assertEquals("alpha", host.pluginIdOf(fd));
            assertEquals(List.of("beta"), host.memoryHandlers().stream().map(h -> h.kind()).toList());
            assertEquals("beta", host.pluginIdOf(host.memoryHandlers().get(0)));
            assertEquals(1, host.lifecycleListeners().size());
            assertEquals(List.of(), host.externalPeerHandlers());
            assertEquals("yes", System.getProperty("cryo.test.beta.started"), "Plugin.start() ran");

            PluginInfo a = host.plugin("alpha").orElseThrow();
            assertEquals(new PluginInfo("alpha", "1.2.3", ">=1.0.0 & <2.0.0", true,
                    List.of("FdHandler[alpha]", "LifecycleListener"), alphaJar, "test plugin alpha"), a);
            assertEquals(List.of("alpha", "beta"), host.plugins().stream().map(PluginInfo::id).toList());
            assertEquals(List.of(), host.disabledPlugins());
            assertThrows(IllegalArgumentException.class, () -> host.pluginIdOf(new Object()));
        }
    }

    @Test
    void pluginsCannotSeeCoreClasses() throws Exception {
        install(alpha());
        try (PluginHost host = PluginHost.start(dir, CryoConfig.defaults())) {
            FdHandler fd = host.fdHandlers().get(0);
            // from the plugin's own code (Class.forName uses the plugin's class loader)
            assertFalse(fd.probe(fdNamed(PluginHost.class.getName())), "core must be invisible");
            assertFalse(fd.probe(fdNamed(CryoConfig.class.getName())), "core must be invisible");
            assertFalse(fd.probe(fdNamed("jnr.ffi.Pointer")), "jnr must be invisible");
            assertFalse(fd.probe(fdNamed("org.junit.jupiter.api.Test")), "the test class path must be invisible");
            assertTrue(fd.probe(fdNamed(FdHandler.class.getName())));
            assertTrue(fd.probe(fdNamed("org.pf4j.Extension")));
            assertTrue(fd.probe(fdNamed(Message.class.getName())));
            assertTrue(fd.probe(fdNamed("org.slf4j.LoggerFactory")));
            assertTrue(fd.probe(fdNamed("java.util.concurrent.ConcurrentHashMap")));
            assertTrue(fd.probe(fdNamed("test.alpha.UsesCore")), "its own classes");

            ClassLoader loader = fd.getClass().getClassLoader();
            assertSame(FdHandler.class, loader.loadClass(FdHandler.class.getName()), "one copy of the SPI");
            assertSame(Message.class, loader.loadClass(Message.class.getName()), "one copy of protobuf");
            ClassNotFoundException e = assertThrows(ClassNotFoundException.class,
                    () -> loader.loadClass(PluginHost.class.getName()));
            assertTrue(e.getMessage().contains("is not visible to plugin 'alpha'"), e.getMessage());
            assertNull(loader.getResource("dev/cryo/core/plugin/PluginHost.class"));
            assertTrue(loader.getResource("META-INF/extensions.idx").toString().contains("alpha-plugin.jar"));

            // plugin code that links against core fails when it runs
            LifecycleListener usesCore = host.lifecycleListeners().get(0);
            NoClassDefFoundError linkage = assertThrows(NoClassDefFoundError.class,
                    () -> usesCore.preDump(new LifecycleEvent(tmp, Pid.of(1), CryoConfig.defaults())));
            assertTrue(linkage.getMessage().contains("dev/cryo/core/config/ConfigKeys"), linkage.getMessage());
        }
    }

    @Test
    void disabledPluginIsNotLoaded() throws Exception {
        install(alpha());
        Path betaJar = install(beta());
        try (PluginHost host = PluginHost.start(dir, CryoConfig.ofLines("plugins.disabled beta"))) {
            assertEquals(List.of(), host.memoryHandlers());
            assertNull(System.getProperty("cryo.test.beta.started"), "a disabled plugin is not started");
            assertNull(System.getProperty("cryo.test.beta.initialized"), "no class of it is initialised");

            PluginInfo b = host.plugin("beta").orElseThrow();
            assertFalse(b.enabled());
            assertEquals(List.of("MemoryHandler"), b.extensionPoints());
            assertEquals(betaJar, b.path());

            PluginHost.DisabledPlugin d = host.disabledPlugin("beta").orElseThrow();
            assertEquals("plugins.disabled at test:1", d.reason());
            assertEquals("remove 'beta' from plugins.disabled at test:1", d.fix());
            assertEquals(Optional.empty(), host.disabledPlugin("alpha"));
            assertEquals(List.of("beta"), host.disabledPluginIds());
        }
    }

    @Test
    void pluginsEnabledLimitsTheSetAndDisabledWins() throws Exception {
        install(alpha());
        install(beta());
        try (PluginHost host = PluginHost.start(dir, CryoConfig.ofLines("plugins.enabled beta"))) {
            assertEquals(List.of(), host.fdHandlers());
            assertEquals(1, host.memoryHandlers().size());
            assertEquals("not listed in plugins.enabled (test:1)", host.disabledPlugin("alpha").orElseThrow().reason());
        }
        try (PluginHost host = PluginHost.start(dir,
                CryoConfig.ofLines("plugins.enabled alpha,beta", "plugins.disabled beta"))) {
            assertEquals(List.of("beta"), host.disabledPluginIds());
        }
    }

    @Test
    void aDisabledPluginMayBeBroken() throws Exception {
        install(alpha());
        install(new TestPluginJars.Spec("broken").manifest("Plugin-Requires", ">=9.0.0"));
        try (PluginHost host = PluginHost.start(dir, CryoConfig.ofLines("plugins.disabled broken"))) {
            assertEquals(List.of(), host.plugin("broken").orElseThrow().extensionPoints());
        }
    }

    @Test
    void corruptJarIsAnErrorNamingIt() throws Exception {
        install(alpha());
        Path garbage = TestPluginJars.garbage(dir, "garbage.jar");
        CryoException e = startFails("core/PLUGIN_LOAD");
        assertEquals(CryoException.Category.PLUGIN_CONFIG, e.category());
        assertMessageContains(e, garbage.toString());
        assertTrue(e.fix().contains("garbage.jar in " + dir), e.fix());
    }

    @Test
    void corruptClassIsAnErrorNamingPluginAndFile() throws Exception {
        Path jar = install(new TestPluginJars.Spec("ghost").index("test.ghost.Missing"));
        CryoException e = startFails("core/PLUGIN_LOAD");
        assertTrue(e.getMessage().startsWith("plugin 'ghost' (" + jar + ") lists extension test.ghost.Missing"),
                e.getMessage());
        assertEquals("remove ghost-plugin.jar from " + dir + " or add 'ghost' to plugins.disabled in conf/cryo.conf",
                e.fix());
    }

    @Test
    void manifestWithoutIdIsAnError() throws Exception {
        Path jar = install(new TestPluginJars.Spec("anon").manifest("Plugin-Id", null));
        CryoException e = startFails("core/PLUGIN_LOAD");
        assertMessageContains(e, jar.toString());
    }

    @Test
    void wrongPluginRequiresIsAnError() throws Exception {
        Path jar = install(new TestPluginJars.Spec("future")
                .manifest("Plugin-Requires", ">=2.0.0")
                .source("test.future.Handler", FD_HANDLER.formatted("future", "future"))
                .index("test.future.Handler"));
        CryoException e = startFails("core/PLUGIN_REQUIRES");
        assertEquals("plugin 'future' 1.2.3 (" + jar + ") requires SPI '>=2.0.0', but this cryo implements SPI "
                + dev.cryo.api.Spi.VERSION, e.getMessage());
        assertTrue(e.fix().contains("plugins.disabled"), e.fix());
    }

    @Test
    void pluginWithoutExtensionsIsAnError() throws Exception {
        install(new TestPluginJars.Spec("empty")
                .source("test.empty.Handler", FD_HANDLER.formatted("empty", "empty")));
        CryoException e = startFails("core/PLUGIN_EMPTY");
        assertMessageContains(e, "META-INF/extensions.idx", "'empty'");
    }

    @Test
    void exceptionInStartIsAnError() throws Exception {
        install(new TestPluginJars.Spec("boom")
                .manifest("Plugin-Class", "test.boom.Lifecycle")
                .source("test.boom.Lifecycle", STARTED_PLUGIN.formatted("boom",
                        "throw new IllegalStateException(\"no license\");"))
                .source("test.boom.Handler", FD_HANDLER.formatted("boom", "boom"))
                .index("test.boom.Handler"));
        CryoException e = startFails("core/PLUGIN_LOAD");
        assertMessageContains(e, "plugin 'boom'", "no license");
    }

    @Test
    void exceptionInConstructorIsAnError() throws Exception {
        install(new TestPluginJars.Spec("ctor")
                .source("test.ctor.Handler", FD_HANDLER.formatted("ctor", "ctor")
                        .replace("public boolean probe", "public Handler() { throw new IllegalStateException(\"no device\"); }\n    public boolean probe"))
                .index("test.ctor.Handler"));
        CryoException e = startFails("core/PLUGIN_LOAD");
        assertMessageContains(e, "failed to create extension test.ctor.Handler", "no device");
    }

    @Test
    void unknownPluginIdInConfigIsAnError() throws Exception {
        install(alpha());
        CryoException e = startFails(CryoConfig.ofLines("plugins.disabled alpha,pipe"));
        assertEquals("core/PLUGIN_NOT_FOUND", e.code());
        assertEquals("plugins.disabled names plugin 'pipe' (test:1), but " + dir
                + " holds no plugin with that id (found: alpha)", e.getMessage());
        e = startFails(CryoConfig.ofLines("plugins.enabled alpah"));
        assertEquals("core/PLUGIN_NOT_FOUND", e.code());
    }

    @Test
    void twoHandlersOfOneKindIsAnError() throws Exception {
        install(alpha());
        install(new TestPluginJars.Spec("copycat")
                .source("test.copycat.Handler", FD_HANDLER.formatted("copycat", "alpha"))
                .index("test.copycat.Handler"));
        CryoException e = startFails("core/DUPLICATE_KIND");
        assertEquals("plugins 'alpha' and 'copycat' both provide a FdHandler of kind 'alpha'", e.getMessage());
    }

    @Test
    void twoJarsWithOneIdIsAnError() throws Exception {
        install(alpha());
        Path copy = dir.resolve("alpha-copy.jar");
        Files.copy(dir.resolve("alpha-plugin.jar"), copy);
        startFails("core/PLUGIN_DUPLICATE");
    }

    @Test
    void extensionNotImplementingAnExtensionPointIsAnError() throws Exception {
        install(new TestPluginJars.Spec("odd")
                .source("test.odd.Thing", "package test.odd; public class Thing { }")
                .index("test.odd.Thing"));
        CryoException e = startFails("core/PLUGIN_LOAD");
        assertMessageContains(e, "implements no cryo extension point");
    }

    @Test
    void missingDirectoryIsAnErrorEmptyDirectoryIsNot() throws Exception {
        CryoException e = assertThrows(CryoException.class,
                () -> PluginHost.start(tmp.resolve("nope"), CryoConfig.defaults()));
        assertEquals("core/PLUGINS_DIR_MISSING", e.code());
        Files.writeString(dir.resolve("README"), "not a plugin");
        try (PluginHost host = PluginHost.start(dir, CryoConfig.defaults())) {
            assertEquals(List.of(), host.plugins());
            assertEquals(List.of(), host.fdHandlers());
        }
    }

    @Test
    void closeUnloadsAndIsIdempotent() throws Exception {
        install(alpha());
        PluginHost host = PluginHost.start(dir, CryoConfig.defaults());
        ClassLoader loader = host.fdHandlers().get(0).getClass().getClassLoader();
        host.close();
        host.close();
        assertTrue(((org.pf4j.PluginClassLoader) loader).isClosed());
        assertNotNull(host.plugins());
    }
}
