package dev.cryo.cli;

import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.PluginOption;
import dev.cryo.core.config.OptionSet;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Pid;
import dev.cryo.core.DumpRequest;
import dev.cryo.core.RestoreRequest;
import dev.cryo.core.config.ConfigEntry;
import dev.cryo.core.plugin.PluginInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI without the engine: parsing, help, the command-line config layer, requests, exit-code mapping. */
class CryoCliTest {
    /** A command that fails the way the test says, to exercise {@link ExitCodes}. */
    static final class Boom extends CryoSubcommand {
        static Exception toThrow;

        Boom() {
            super("boom");
        }

        @Override
        void addOptions(picocli.CommandLine.Model.CommandSpec spec) {
        }

        @Override
        public Integer call() throws Exception {
            throw toThrow;
        }
    }

    /** The effective config of a command line alone: the last value wins, any mention sets a key. */
    record EntriesConfig(List<ConfigEntry> entries) implements Config {
        @Override
        public Optional<String> value(String key) {
            Optional<String> last = Optional.empty();
            for (ConfigEntry e : entries) {
                if (e.key().equals(key)) {
                    last = e.value();
                }
            }
            return last;
        }

        @Override
        public List<String> values(String key) {
            return entries.stream().filter(e -> e.key().equals(key)).flatMap(e -> e.value().stream()).toList();
        }

        @Override
        public boolean isSet(String key) {
            return entries.stream().anyMatch(e -> e.key().equals(key));
        }
    }

    record Run(int status, String out, String err) {
    }

    static Run run(CommandLine cl, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int status = cl.execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    static Run run(String... args) {
        return run(CryoCli.commandLine(), args);
    }

    /** Options a vendor plugin declares, as the CLI merges them. */
    @PluginOption(name = "acme-peers", shape = PluginOption.Shape.FLAG_OR_VALUE, valueHint = "INO[,INO...]",
            valuePattern = "[0-9]+(,[0-9]+)*", help = "Allow acme peers outside the tree.")
    @PluginOption(name = "acme-check", help = "Check acme devices.", commands = PluginOption.Command.RESTORE)
    private static final class AcmeOptions {
    }

    /** The CLI with the acme plugin's options merged in. */
    static CommandLine withAcme() {
        CommandLine cl = CryoCli.commandLine();
        try {
            PluginOptions.install(cl, OptionSet.withPlugins(
                    Map.of("acme", List.of(AcmeOptions.class.getAnnotationsByType(PluginOption.class)))));
        } catch (CryoException e) {
            throw new AssertionError(e);
        }
        return cl;
    }

    static List<ConfigEntry> entries(String... args) {
        return CommandLineLayer.entries(withAcme().parseArgs(args));
    }

    @Test
    void pluginOptionsAppearUnderThePluginsHeadingOfTheirCommandsOnly() {
        Run r = run(withAcme(), "dump", "--help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("Options of plugin acme:"), r.out());
        assertTrue(r.out().contains("--acme-peers[=INO[,INO...]]"), r.out());
        assertFalse(r.out().contains("--acme-check"), "restore only:\n" + r.out());
        assertTrue(run(withAcme(), "restore", "--help").out().contains("--acme-check"));
        assertEquals(2, run(withAcme(), "dump", "--acme-check").status(), "not a dump option");
    }

    @Test
    void versionPrintsTheProjectVersion() {
        Run r = run("--version");
        assertEquals(0, r.status());
        assertTrue(r.out().matches("cryo \\d+\\.\\d+\\.\\d+\\S* \\(plugin SPI "
                + java.util.regex.Pattern.quote(dev.cryo.api.Spi.VERSION) + "\\)\\R"), r.out());
        assertTrue(dev.cryo.api.Spi.VERSION.matches("1\\.\\d+\\.\\d+"), dev.cryo.api.Spi.VERSION);
        assertFalse(r.out().contains("${"), r.out());
    }

    @Test
    void helpDeclaresEveryExitCodeAndSubcommand() {
        Run r = run("--help");
        assertEquals(0, r.status());
        for (String code : List.of(" 0 ", " 1 ", " 2 ", " 3 ", " 4 ", " 5 ", " 6 ", " 7 ", " 8 ", "70 ")) {
            assertTrue(r.out().contains(code), "exit code " + code + " missing:\n" + r.out());
        }
        for (String sub : List.of("dump", "restore", "check", "plugins", "show")) {
            assertTrue(r.out().contains("  " + sub + " "), sub + " missing:\n" + r.out());
        }
    }

    @Test
    void restoreHelpExplainsDetachStoppedAndSamePids() {
        Run r = run("restore", "--help");
        assertEquals(0, r.status());
        String help = r.out().replaceAll("\\s+", " ");
        assertTrue(help.contains("-d, --restore-detached Exit 0 as soon as the restored tree runs"), help);
        assertTrue(help.contains("-s, --leave-stopped Leave the restored tree stopped"), help);
        assertTrue(help.contains("same pids"), help);
        assertTrue(help.contains("Exit codes:"), help);
        assertTrue(run("dump", "--help").out().replaceAll("\\s+", " ").contains("-R, --leave-running"));
    }

    /** Golden: the whole stderr of a usage error, the exit status 2, nothing on stdout. */
    private static void assertUsageError(String expectedErr, String... args) {
        Run r = run(args);
        assertEquals(2, r.status(), String.join(" ", args) + "\n" + r.err());
        assertEquals("", r.out(), "no help dump on stdout");
        assertEquals(expectedErr.replace("\n", System.lineSeparator()), r.err(), String.join(" ", args));
    }

    @Test
    void usageErrorsAreOneLineAFixTheCodeAndTheShortUsage() {
        assertUsageError("""
                invalid value for -t/--tree: 'abc' is not a pid (a positive whole number)
                Fix: give a pid, e.g. -t 1234 (`cryo dump --help` explains it)
                [cli/BAD_VALUE]
                Usage: cryo dump [OPTIONS]   (`cryo dump --help` for more)
                """, "dump", "-t", "abc", "-D", "/tmp/x");
        assertUsageError("""
                unknown option --bogus
                Fix: `cryo dump --help` lists the options
                [cli/UNKNOWN_OPTION]
                Usage: cryo dump [OPTIONS]   (`cryo dump --help` for more)
                """, "dump", "--bogus");
        assertUsageError("""
                unknown option --leave-runing
                Fix: did you mean --leave-running? (`cryo dump --help` lists the options)
                [cli/UNKNOWN_OPTION]
                Usage: cryo dump [OPTIONS]   (`cryo dump --help` for more)
                """, "dump", "-t", "1", "--leave-runing");
        assertUsageError("""
                unknown option -R
                Fix: -R/--leave-running is an option of `cryo dump`, not of `cryo restore`
                [cli/UNKNOWN_OPTION]
                Usage: cryo restore [OPTIONS]   (`cryo restore --help` for more)
                """, "restore", "-R");
        assertUsageError("""
                unknown command 'frobnicate'
                Fix: give one of the commands: dump, restore, check, plugins, show, graph, help
                [cli/UNKNOWN_COMMAND]
                Usage: cryo [OPTIONS] [COMMAND]   (`cryo --help` for more)
                """, "frobnicate");
        assertUsageError("""
                unknown command 'dupm'
                Fix: did you mean `cryo dump`? (the commands: dump, restore, check, plugins, show, graph, help)
                [cli/UNKNOWN_COMMAND]
                Usage: cryo [OPTIONS] [COMMAND]   (`cryo --help` for more)
                """, "dupm");
        assertUsageError("""
                no command given
                Fix: give one of dump, restore, check, plugins, show, graph, help (`cryo --help` explains them)
                [cli/MISSING_COMMAND]
                Usage: cryo [OPTIONS] [COMMAND]   (`cryo --help` for more)
                """);
        assertUsageError("""
                option -t/--tree needs a value
                Fix: give it as -t PID (`cryo dump --help` explains it)
                [cli/MISSING_VALUE]
                Usage: cryo dump [OPTIONS]   (`cryo dump --help` for more)
                """, "dump", "-t");
    }

    @Test
    void usageErrorsRaisedAfterParsingLookTheSame() {
        assertUsageError("""
                missing -t/--tree PID
                Fix: pass -t/--tree PID (or set `tree` in a config file)
                [cli/MISSING_OPTION]
                Usage: cryo dump [OPTIONS]   (`cryo dump --help` for more)
                """, "dump", "-D", "/tmp/x");
        assertUsageError("""
                invalid value for -t/--tree: '0' is not a pid (a positive whole number)
                Fix: give a pid, e.g. -t 1234
                [cli/BAD_VALUE]
                Usage: cryo dump [OPTIONS]   (`cryo dump --help` for more)
                """, "dump", "-t", "0", "-D", "/tmp/x");
    }

    @Test
    void usageErrorWithOutputJsonIsOneJsonObjectOnStdout() {
        Run r = run("dump", "--output", "json", "-t", "abc");
        assertEquals(2, r.status());
        assertEquals("", r.err());
        assertEquals("{\"command\":\"dump\",\"ok\":false,\"exitCode\":2,\"error\":{\"code\":\"cli/BAD_VALUE\","
                + "\"category\":\"USAGE\",\"message\":\"invalid value for -t/--tree: 'abc' is not a pid (a positive"
                + " whole number)\",\"fix\":\"give a pid, e.g. -t 1234 (`cryo dump --help` explains it)\"}}"
                + System.lineSeparator(), r.out());
    }

    @Test
    void eachHelpListsTheExitCodesOfItsCommandOnly() {
        String dump = run("dump", "--help").out();
        String codes = dump.substring(dump.indexOf("Exit codes:"));
        assertTrue(codes.contains(" 8   no such process"), codes);
        assertTrue(codes.contains(" 3   unsupported resource"), codes);
        assertFalse(codes.contains("restore without -d"), "dump never exits with the root's status:\n" + codes);
        assertFalse(codes.contains(" 7   "), codes);
        String restore = run("restore", "--help").out();
        assertTrue(restore.contains(" 1   restore without -d"), restore);
        assertFalse(restore.contains(" 8   no such process"), restore);
        String plugins = run("plugins", "--help").out();
        assertFalse(plugins.contains(" 3   "), plugins);
        assertTrue(plugins.contains(" 5   plugin or configuration problem"), plugins);
    }

    @Test
    void closestIsATypoNotAGuess() {
        assertEquals(Optional.of("--leave-running"), UsageErrors.closest("--leave-runing", List.of("--leave-running",
                "--leave-stopped", "--tree")));
        assertEquals(Optional.of("--overwrite-images"), UsageErrors.closest("--overwrite",
                List.of("--overwrite-images", "--tree")));
        assertEquals(Optional.empty(), UsageErrors.closest("--bogus", List.of("--leave-running", "--tree", "-t")));
        assertEquals(Optional.of("dump"), UsageErrors.closest("dupm", List.of("dump", "restore", "show")));
    }

    @Test
    void unwritableLogFileIsAUsageError(@TempDir Path tmp) {
        Run r = run("-o", tmp.resolve("no/such/dir/log").toString(), "dump", "-t", "1", "-D", "x");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("cannot write log file"), r.err());
    }

    @Test
    void commandLineBecomesConfigEntriesUnderTheLongNames() {
        List<ConfigEntry> got = entries("-v", "dump", "-vv", "-t", "42", "-D", "img", "-R", "--acme-peers",
                "--external", "a", "--external", "b", "--overwrite-images", "--config", "x.conf", "-o", "l");
        List<String> rendered = new ArrayList<>();
        for (ConfigEntry e : got) {
            assertEquals(CommandLineLayer.SOURCE, e.source());
            rendered.add(e.key() + e.value().map(v -> "=" + v).orElse(""));
        }
        assertEquals(List.of("tree=42", "images-dir=img", "leave-running", "acme-peers", "external=a",
                "external=b", "overwrite-images"), rendered, "-v, -o and --config steer this invocation only");
    }

    @Test
    void flagOrValuePluginOptionKeepsTheList() {
        assertEquals(List.of(new ConfigEntry("acme-peers", Optional.of("5,6"), CommandLineLayer.SOURCE)),
                entries("restore", "--acme-peers=5,6"));
    }

    @Test
    void dumpRequestComesFromTheEffectiveConfig() throws CryoException {
        DumpRequest r = DumpCommand.request(new EntriesConfig(entries("dump", "-t", "42", "-D", "rel/img")));
        assertEquals(Pid.of(42), r.root());
        assertEquals(Path.of("rel/img").toAbsolutePath().normalize(), r.imageDir());
        assertEquals(DumpRequest.After.KILL, r.after());
        assertEquals(DumpRequest.After.LEAVE_RUNNING,
                DumpCommand.request(new EntriesConfig(entries("dump", "-t", "1", "-D", "d", "-R"))).after());
        assertEquals(DumpRequest.After.LEAVE_STOPPED,
                DumpCommand.request(new EntriesConfig(entries("dump", "-t", "1", "-D", "d", "-s"))).after());
    }

    @Test
    void dumpRequestRefusesBadCombinations() {
        assertUsage(() -> DumpCommand.request(new EntriesConfig(entries("dump", "-D", "d"))), "-t/--tree");
        assertUsage(() -> DumpCommand.request(new EntriesConfig(entries("dump", "-t", "1"))), "-D/--images-dir");
        assertUsage(() -> DumpCommand.request(new EntriesConfig(entries("dump", "-t", "0", "-D", "d"))), "'0'");
        assertUsage(() -> DumpCommand.request(new EntriesConfig(entries("dump", "-t", "1", "-D", "d", "-R", "-s"))),
                "exclude each other");
    }

    @Test
    void restoreRequestComesFromTheEffectiveConfig() throws CryoException {
        RestoreRequest r = RestoreCommand.request(new EntriesConfig(entries("restore", "-D", "img", "-d", "-s",
                "--pidfile", "p.pid", "--inherit-fd", "fd[3]:pipe:[123]")));
        assertEquals(Path.of("img").toAbsolutePath().normalize(), r.imageDir());
        assertTrue(r.detached());
        assertTrue(r.leaveStopped());
        assertEquals(Optional.of(Path.of("p.pid").toAbsolutePath().normalize()), r.pidFile());
        RestoreRequest plain = RestoreCommand.request(new EntriesConfig(entries("restore", "-D", "img")));
        assertFalse(plain.detached());
        assertFalse(plain.leaveStopped());
        assertEquals(Optional.empty(), plain.pidFile());
        assertUsage(() -> RestoreCommand.request(
                new EntriesConfig(entries("restore", "-D", "d", "--inherit-fd", "3:pipe"))), "--inherit-fd");
    }

    @Test
    void pidFileHoldsThePidAndANewline(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("root.pid");
        Files.writeString(file, "stale content that is longer\n");
        RestoreCommand.writePidFile(file, Pid.of(4321));
        assertEquals("4321\n", Files.readString(file));
        CryoException e = assertThrows(CryoException.class,
                () -> RestoreCommand.writePidFile(tmp.resolve("no/dir/p.pid"), Pid.of(1)));
        assertEquals(Category.KERNEL, e.category());
    }

    @Test
    void cryoExceptionPrintsRenderOnlyAndExitsWithItsCategory() {
        CryoException e = new CryoException(Category.CONFLICT, "core/PID_IN_USE",
                "pid 812 is in use by pid 812 \"sleep\"", "kill it or restore elsewhere");
        Boom.toThrow = e;
        Run r = run(withBoom(), "boom");
        assertEquals(7, r.status());
        assertEquals(e.render() + System.lineSeparator(), r.err());

        Run verbose = run(withBoom(), "boom", "-v");
        assertEquals(7, verbose.status());
        assertTrue(verbose.err().startsWith(e.render()), verbose.err());
        assertTrue(verbose.err().contains("\tat "), "stack trace expected with -v:\n" + verbose.err());
    }

    @Test
    void everyCategoryMapsToItsDeclaredExitCode() {
        for (Category c : Category.values()) {
            Boom.toThrow = new CryoException(c, "core/X", "failed");
            assertEquals(c.exitCode(), run(withBoom(), "boom").status(), c.name());
        }
    }

    @Test
    void anyOtherExceptionIsInternalWithAStackTrace() {
        Boom.toThrow = new IllegalStateException("oops");
        Run r = run(withBoom(), "boom");
        assertEquals(70, r.status());
        assertTrue(r.err().startsWith("internal error: java.lang.IllegalStateException: oops"), r.err());
        assertTrue(r.err().contains("\tat "), r.err());
    }

    @Test
    void pluginsTableIsAligned() {
        String table = PluginsCommand.table(List.of(
                new PluginInfo("pipe", "0.1.0", ">=1.0.0", true, List.of("FdHandler[pipe]"), Path.of("/p/pipe.jar"), ""),
                new PluginInfo("regular-file", "0.1.0", ">=1.0.0", false, List.of(), Path.of("/p/rf.jar"), "")));
        List<String> lines = table.lines().toList();
        assertEquals(3, lines.size(), table);
        assertTrue(lines.get(0).startsWith("ID            VERSION  STATE     EXTENSION POINTS  FILE"), table);
        assertTrue(lines.get(1).startsWith("pipe          0.1.0    enabled   FdHandler[pipe]   /p/pipe.jar"), table);
        assertTrue(lines.get(2).startsWith("regular-file  0.1.0    disabled  -                 /p/rf.jar"), table);
    }

    @Test
    void verbosityMapsToLevels() {
        assertEquals("warn", LogSetup.level(0));
        assertEquals("info", LogSetup.level(1));
        assertEquals("debug", LogSetup.level(2));
        assertEquals("trace", LogSetup.level(5));
        assertEquals(3, Invocation.of(CryoCli.commandLine().parseArgs("-v", "plugins", "-vv")).verbosity());
    }

    private static CommandLine withBoom() {
        CommandLine cl = CryoCli.commandLine();
        cl.addSubcommand("boom", new Boom().model());
        return cl;
    }

    private static void assertUsage(org.junit.jupiter.api.function.Executable call, String mention) {
        CryoException e = assertThrows(CryoException.class, call);
        assertEquals(Category.USAGE, e.category());
        assertTrue(e.render().contains(mention), e.render());
    }

    @Test
    void onlyTheNamedSubcommandIsBuiltAndHelpStillSeesThemAll() {
        assertEquals(List.of("dump"), List.copyOf(CryoCli.commandLine(new String[] {"-v", "dump", "-t", "1"})
                .getSubcommands().keySet()));
        assertEquals(List.of("dump", "restore", "check", "plugins", "show", "graph", "help"),
                List.copyOf(CryoCli.commandLine(new String[] {"help", "dump"}).getSubcommands().keySet()));
        assertEquals(7, CryoCli.commandLine(new String[] {"--bogus"}).getSubcommands().size());
        assertEquals(7, CryoCli.commandLine(new String[] {"-o", "restore", "dump"}).getSubcommands().size());
        Run help = run(CryoCli.commandLine(new String[] {"help", "restore"}), "help", "restore");
        assertEquals(0, help.status(), help.err());
        assertTrue(help.out().contains("--restore-detached") || help.out().contains("-d"), help.out());
    }
}
