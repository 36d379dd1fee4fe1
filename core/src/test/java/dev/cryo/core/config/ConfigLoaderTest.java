package dev.cryo.core.config;

import dev.cryo.api.CryoException;
import dev.cryo.api.PluginOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {
    @TempDir
    Path tmp;

    private Path home() throws Exception {
        Path home = tmp.resolve("home");
        Files.createDirectories(home.resolve("conf"));
        return home;
    }

    private Path write(Path p, String... lines) throws Exception {
        Files.createDirectories(p.getParent());
        Files.write(p, List.of(lines));
        return p;
    }

    private Path noSystemFile() {
        return tmp.resolve("etc/cryo/cryo.conf");
    }

    @Test
    void parsesAllLineForms() throws Exception {
        Path f = write(tmp.resolve("a.conf"),
                "# a comment",
                "",
                "   tree 812   ",
                "images-dir=/var/img  # trailing comment",
                "pidfile = \"/tmp/with space.pid\"",
                "leave-running",
                "\tno-leave-running",
                "external file[1]:/a#b");
        List<ConfigEntry> es = ConfigLoader.parse(f, OptionSet.core());
        assertEquals(6, es.size());
        assertEquals(new ConfigEntry("tree", Optional.of("812"), f + ":3"), es.get(0));
        assertEquals(new ConfigEntry("images-dir", Optional.of("/var/img"), f + ":4"), es.get(1));
        assertEquals(Optional.of("/tmp/with space.pid"), es.get(2).value());
        assertEquals(new ConfigEntry("leave-running", Optional.empty(), f + ":6"), es.get(3));
        assertTrue(es.get(4).negation());
        assertEquals("leave-running", es.get(4).option());
        assertEquals(Optional.of("file[1]:/a#b"), es.get(5).value(), "# inside a word is not a comment");
    }

    @Test
    void unknownOptionNamesFileLineAndSuggestsAFix() throws Exception {
        Path etc = write(noSystemFile(), "tree 1", "", "fooo", "tre 12");
        CryoException e = assertThrows(CryoException.class,
                () -> ConfigLoader.load(home(), etc, Map.of(), Optional.empty(), List.of()));
        assertEquals("core/UNKNOWN_OPTION", e.code());
        assertEquals(CryoException.Category.PLUGIN_CONFIG, e.category());
        assertEquals(etc + ":3: unknown option 'fooo'", e.getMessage());
        assertTrue(e.fix().contains("known options:"), e.fix());

        write(etc, "tre 12");
        e = assertThrows(CryoException.class,
                () -> ConfigLoader.load(home(), etc, Map.of(), Optional.empty(), List.of()));
        assertTrue(e.fix().contains("did you mean 'tree'?"), e.fix());
    }

    @Test
    void unknownOptionOnCommandLineIsAUsageError() {
        CryoException e = assertThrows(CryoException.class, () -> ConfigLoader.load(tmp, noSystemFile(), Map.of(),
                Optional.empty(), List.of(ConfigEntry.flag("leave-runing"))));
        assertEquals(CryoException.Category.USAGE, e.category());
        assertEquals("command line: unknown option 'leave-runing'", e.getMessage());
        assertTrue(e.fix().contains("did you mean 'leave-running'?"), e.fix());
    }

    @Test
    void chainOrderLaterWins() throws Exception {
        Path home = home();
        write(home.resolve("conf/cryo.conf"), "tree 1", "images-dir /from-home", "pidfile /home.pid",
                "leave-running");
        Path etc = write(noSystemFile(), "tree 2", "images-dir /from-etc", "pidfile /etc.pid");
        Path env = write(tmp.resolve("env.conf"), "tree 3", "images-dir /from-env");
        Path explicit = write(tmp.resolve("explicit.conf"), "tree 4", "no-leave-running");
        CryoConfig c = ConfigLoader.load(home, etc, Map.of("CRYO_CONFIG", env.toString()), Optional.of(explicit),
                List.of(ConfigEntry.of("tree", "5")));

        assertEquals(Optional.of("5"), c.value("tree"));
        assertEquals(Optional.of("command line"), c.source("tree"));
        assertEquals(Optional.of("/from-env"), c.value("images-dir"));
        assertEquals(Optional.of(env + ":2"), c.source("images-dir"));
        assertEquals(Optional.of(Path.of("/etc.pid")), c.path("pidfile"));
        assertEquals(Optional.of(etc + ":3"), c.source("pidfile"));
        assertFalse(c.isSet("leave-running"), "no-leave-running in --config negates conf/cryo.conf");
        assertEquals(Optional.of(explicit + ":2"), c.source("leave-running"));
        assertEquals(List.of(home.resolve("conf/cryo.conf"), etc, env, explicit), c.files());
    }

    @Test
    void defaultsAreTheFirstLink() throws Exception {
        CryoConfig c = ConfigLoader.load(tmp, noSystemFile(), Map.of(), Optional.empty(), List.of(), acme());
        assertEquals(Optional.of("1M"), c.value("acme-limit"));
        assertEquals(Optional.of(ConfigEntry.BUILT_IN), c.source("acme-limit"));
        assertFalse(c.isSet("leave-running"));
        assertEquals(Optional.empty(), c.source("tree"));
        assertEquals(List.of(), c.values("external"));
    }

    @Test
    void repeatableKeysAccumulateInChainOrder() throws Exception {
        Path home = home();
        write(home.resolve("conf/cryo.conf"), "plugins.enabled memory,regular-file", "external file[1]:/a");
        Path etc = write(noSystemFile(), "plugins.disabled pipe", "external file[2]:/b");
        CryoConfig c = ConfigLoader.load(home, etc, Map.of(), Optional.empty(),
                List.of(ConfigEntry.of("plugins.enabled", "pipe"), ConfigEntry.of("external", "unix[3]")));
        assertEquals(List.of("file[1]:/a", "file[2]:/b", "unix[3]"), c.values("external"));
        assertEquals(List.of("memory", "regular-file", "pipe"), c.list("plugins.enabled"));
        assertEquals(List.of("pipe"), c.list("plugins.disabled"));
        assertEquals(List.of(home.resolve("conf/cryo.conf") + ":1", "command line"), c.sources("plugins.enabled"));
        assertEquals(Optional.of("unix[3]"), c.value("external"), "value() of a repeatable key is the last one");
    }

    /** A plugin's option declarations, as a vendor writes them. */
    @PluginOption(name = "acme-peers", shape = PluginOption.Shape.FLAG_OR_VALUE, valueHint = "INO[,INO...]",
            valuePattern = "[0-9]+(\\s*,\\s*[0-9]+)*", help = "allow outside peers (all, or these inodes)")
    @PluginOption(name = "acme-limit", shape = PluginOption.Shape.VALUE, defaultValue = "1M", help = "a limit",
            commands = PluginOption.Command.DUMP)
    private static final class AcmeOptions {
    }

    static OptionSet acme() throws CryoException {
        return OptionSet.withPlugins(Map.of("acme", List.of(AcmeOptions.class.getAnnotationsByType(PluginOption.class))));
    }

    @Test
    void pluginOptionsJoinTheChain() throws Exception {
        OptionSet acme = acme();
        CryoConfig c = CryoConfig.ofLines(acme, "acme-peers");
        assertTrue(c.isSet("acme-peers"));
        assertEquals(Optional.empty(), c.value("acme-peers"));
        assertEquals(Optional.of("1M"), c.value("acme-limit"), "a plugin's default is the first link");
        assertEquals(Optional.of("acme"), acme.find("acme-limit").orElseThrow().plugin());

        c = CryoConfig.ofLines(acme, "acme-peers 4711, 4712");
        assertEquals(List.of("4711", "4712"), c.list("acme-peers"));

        c = CryoConfig.ofLines(acme, "acme-peers 4711", "no-acme-peers");
        assertFalse(c.isSet("acme-peers"));
        assertEquals(Optional.empty(), c.value("acme-peers"));
        assertEquals(Map.of(), c.explicitlySet());

        CryoException e = assertThrows(CryoException.class, () -> CryoConfig.ofLines(acme, "acme-peers abc"));
        assertEquals("core/BAD_OPTION", e.code());
        assertEquals("test:1: bad value 'abc' for option 'acme-peers'", e.getMessage());

        e = assertThrows(CryoException.class, () -> CryoConfig.ofLines("acme-peers"));
        assertEquals("core/UNKNOWN_OPTION", e.code(), "without the plugin the option is unknown");
    }

    @Test
    void offersOnlyCoreOptionsAndThoseOfEnabledPlugins() throws CryoException {
        CryoConfig config = CryoConfig.ofLines(acme(), "acme-peers");
        assertTrue(config.offers("tree"));
        assertTrue(config.offers("acme-peers"));
        assertFalse(config.offers("no-such-option"));
        CryoConfig acmeDisabled = config.withDisabledPlugins(List.of("acme"));
        assertFalse(acmeDisabled.offers("acme-peers"), "a fix must not suggest a disabled plugin's option");
        assertTrue(acmeDisabled.offers("tree"));
        assertTrue(acmeDisabled.isSet("acme-peers"), "the values stay");
        assertEquals(config.value("acme-limit"), acmeDisabled.value("acme-limit"), "defaults stay");
    }

    @PluginOption(name = "tree", help = "clashes with core")
    private static final class Clash {
    }

    @PluginOption(name = "No_Good", help = "bad name")
    private static final class BadName {
    }

    @Test
    void malformedOrClashingDeclarationsNameThePlugin() {
        CryoException e = assertThrows(CryoException.class, () -> OptionSet.withPlugins(
                Map.of("bad", List.of(Clash.class.getAnnotationsByType(PluginOption.class)))));
        assertEquals("core/PLUGIN_OPTION", e.code());
        assertEquals("plugin 'bad' declares option 'tree', which is a core option", e.getMessage());
        e = assertThrows(CryoException.class, () -> OptionSet.withPlugins(
                Map.of("bad", List.of(BadName.class.getAnnotationsByType(PluginOption.class)))));
        assertTrue(e.getMessage().contains("'No_Good'"), e.getMessage());
        e = assertThrows(CryoException.class, () -> OptionSet.withPlugins(new java.util.TreeMap<>(Map.of(
                "a", List.of(AcmeOptions.class.getAnnotationsByType(PluginOption.class)),
                "b", List.of(AcmeOptions.class.getAnnotationsByType(PluginOption.class))))));
        assertEquals("plugin 'b' declares option 'acme-peers', which plugin 'a' declares too", e.getMessage());
    }

    @Test
    void shapeErrors() {
        CryoException e = assertThrows(CryoException.class, () -> CryoConfig.ofLines("# x", "tree"));
        assertEquals("test:2: option 'tree' needs a value", e.getMessage());
        e = assertThrows(CryoException.class, () -> CryoConfig.ofLines("leave-running yes"));
        assertEquals("test:1: option 'leave-running' is a flag and takes no value (given 'yes')", e.getMessage());
        e = assertThrows(CryoException.class, () -> CryoConfig.ofLines("no-tree"));
        assertTrue(e.getMessage().startsWith("test:1: option 'tree' takes a value and cannot be negated"),
                e.getMessage());
        e = assertThrows(CryoException.class, () -> CryoConfig.ofLines("tree abc"));
        assertEquals("core/BAD_OPTION", e.code());
        e = assertThrows(CryoException.class, () -> CryoConfig.ofLines("=5"));
        assertEquals("core/BAD_OPTION", e.code());
    }

    @Test
    void missingExplicitFileIsAnError() {
        Path missing = tmp.resolve("nope.conf");
        CryoException e = assertThrows(CryoException.class,
                () -> ConfigLoader.load(tmp, noSystemFile(), Map.of(), Optional.of(missing), List.of()));
        assertEquals("core/CONFIG_NOT_FOUND", e.code());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void cryoConfigSetButMissingIsAnErrorUnsetOrEmptyIsFine() throws Exception {
        Path missing = tmp.resolve("nope.conf");
        CryoException e = assertThrows(CryoException.class, () -> ConfigLoader.load(tmp, noSystemFile(),
                Map.of("CRYO_CONFIG", missing.toString()), Optional.empty(), List.of()));
        assertEquals("core/CONFIG_NOT_FOUND", e.code());
        assertTrue(e.getMessage().contains("$CRYO_CONFIG"), e.getMessage());
        assertTrue(e.fix().contains("unset CRYO_CONFIG"), e.fix());

        CryoConfig c = ConfigLoader.load(tmp, noSystemFile(), Map.of("CRYO_CONFIG", ""), Optional.empty(), List.of());
        assertEquals(List.of(), c.files());
    }

    @Test
    void aFileNamedTwiceCountsOnce() throws Exception {
        Path etc = write(noSystemFile(), "external a");
        CryoConfig c = ConfigLoader.load(tmp, etc, Map.of("CRYO_CONFIG", etc.toString()), Optional.of(etc),
                List.of());
        assertEquals(List.of("a"), c.values("external"));
    }

    @Test
    void aKeyNobodyDeclaredIsNotSet() {
        assertFalse(CryoConfig.defaults().isSet("leave-runing"));
    }

    @Test
    void everyKeyIsDocumented() {
        for (ConfigKeys.Key k : ConfigKeys.all()) {
            assertFalse(k.description().isBlank(), k.name());
            assertTrue(k.plugin().isEmpty(), k.name());
        }
        assertEquals(15, ConfigKeys.all().size());
        assertTrue(ConfigKeys.find("plugins.enabled").orElseThrow().repeatable());
        assertTrue(ConfigKeys.find("inherit-fd").orElseThrow().repeatable());
        assertFalse(ConfigKeys.find("tree").orElseThrow().repeatable());
    }
}
