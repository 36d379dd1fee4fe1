package dev.cryo.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The {@code cryo} root command and the program's entry point. Modelled on picocli's git example: subcommands,
 * {@code --help}/{@code --version}, a repeatable {@code -v}, exit codes declared in {@code --help} and mapped from
 * failures in one place ({@link ExitCodes}). The command model is built with picocli's programmatic API, not its
 * annotations ({@link CommandModel}). Runs once per process, on the main thread.
 */
public final class CryoCli implements Runnable {
    private CommandSpec spec;

    static final String MISSING_SUBCOMMAND = "Missing required subcommand";

    /** @return the root command's model: the global options, help and version, sorted by name in {@code --help} */
    private CommandSpec model() {
        spec = CommandModel.command(this, "cryo", true, "Checkpoint a running Linux process tree into an image "
                        + "directory and restore it later: same pids, memory, registers and open files.", "",
                "Every long option can also be set in a config file under the same name, without `--`: "
                        + "<cryo home>/conf/cryo.conf, /etc/cryo/cryo.conf, $CRYO_CONFIG, --config FILE "
                        + "(later wins; the command line wins over all).");
        spec.usageMessage().footer("", "Examples:",
                "  cryo dump -t 1234 -D /var/lib/cryo/img        checkpoint, then kill the tree",
                "  cryo restore -D /var/lib/cryo/img -d          restore it, return once it runs",
                "  cryo show -D /var/lib/cryo/img                the tree, mappings and fds of an image",
                "  cryo check -t 1234                            could it be dumped? every reason it could not",
                "  cryo check                                    can this kernel do it?");
        spec.addMixin(GlobalOptions.MIXIN, GlobalOptions.mixin());
        return CommandModel.helpOptions(spec);
    }

    /** {@code cryo} without a subcommand is a usage error. */
    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), MISSING_SUBCOMMAND);
    }

    public static void main(String[] args) {
        // loud on every command, whatever it is: the opt-out must not be forgotten on a production host
        // no method reference: main's lambdas are not in the class data archive (its training runs run(), not main)
        java.util.Optional<String> insecure = dev.cryo.core.config.FileTrust.insecureWarning(System.getenv());
        if (insecure.isPresent()) {
            System.err.println(insecure.get());
        }
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            // the same line picocli prints, without building the command model (most of --version's start-up)
            System.out.println(VersionProvider.line());
            return;
        }
        System.exit(run(args));
    }

    /**
     * Runs one command as {@link #main} does, and returns its exit code instead of exiting: the build's training run
     * for the class data sharing archive ({@link ClassListTraining}) goes through here, so that the archive holds
     * the classes of this path (the start-up thread, the plugins' options), not only those of the commands.
     */
    static int run(String[] args) {
        StartupPrefetch prefetch = null;
        if (PluginOptions.needed(args)) {
            // reading the plugins' options creates loggers: set logging up first from a scan of -v/-o
            LogSetup.configure(prescanVerbosity(args), prescanLogFile(args));
            prefetch = StartupPrefetch.start(subcommand(args), CryoSubcommand.home());
        }
        CommandLine cl = commandLine(args);
        OutputFormat.prescan(args);
        if (prefetch != null) {
            try {
                PluginOptions.install(cl, CryoSubcommand.home(), prefetch.declaredOptions());
            } catch (dev.cryo.api.CryoException e) {
                ErrorOutput.print(cl, e, false);
                return e.category().exitCode();
            }
        }
        return cl.execute(args);
    }

    /** @return the first word of {@code args} naming a subcommand (before a {@code --}), or null */
    static String subcommand(String[] args) {
        for (String a : args) {
            if (a.equals("--")) {
                break;
            }
            if (SUBCOMMANDS.containsKey(a)) {
                return a;
            }
        }
        return null;
    }

    /** @return the number of {@code -v} before a {@code --} (for logging set up before parsing) */
    static int prescanVerbosity(String[] args) {
        int n = 0;
        for (String a : args) {
            if (a.equals("--")) {
                break;
            }
            if (a.equals("--verbose")) {
                n++;
            } else if (a.matches("-v+")) {
                n += a.length() - 1;
            }
        }
        return n;
    }

    /** @return the {@code -o/--log-file} value, if any (for logging set up before parsing) */
    static Optional<Path> prescanLogFile(String[] args) {
        Path file = null;
        for (int i = 0; i < args.length; i++) {
            if ((args[i].equals("-o") || args[i].equals("--log-file")) && i + 1 < args.length) {
                file = Path.of(args[i + 1]);
            } else if (args[i].startsWith("--log-file=")) {
                file = Path.of(args[i].substring("--log-file=".length()));
            }
        }
        return Optional.ofNullable(file);
    }

    /**
     * The subcommands' models, in help order. Built on demand: a run of one command builds only its model.
     */
    private static final Map<String, Supplier<Object>> SUBCOMMANDS = new LinkedHashMap<>();

    static {
        SUBCOMMANDS.put("dump", () -> new DumpCommand().model());
        SUBCOMMANDS.put("restore", () -> new RestoreCommand().model());
        SUBCOMMANDS.put("check", () -> new CheckCommand().model());
        SUBCOMMANDS.put("plugins", () -> new PluginsCommand().model());
        SUBCOMMANDS.put("show", () -> new ShowCommand().model());
        SUBCOMMANDS.put("graph", () -> new GraphCommand().model());
        SUBCOMMANDS.put("help", NewHelpCommand.INSTANCE);
    }

    /** @return the configured command line with every subcommand */
    public static CommandLine commandLine() {
        return commandLine(new String[0]);
    }

    /**
     * @return the configured command line for {@code args}: only the subcommand they name when they name exactly one
     *     (other than {@code help}), every subcommand otherwise (help, usage errors, an unknown command); with the
     *     exit-code table on every command and logging set up before running
     */
    static CommandLine commandLine(String[] args) {
        String only = null;
        for (String a : args) {
            if (a.equals("--")) {
                break;
            }
            if (SUBCOMMANDS.containsKey(a)) {
                if (only != null || a.equals("help")) {
                    only = null;
                    break;
                }
                only = a;
            }
        }
        CommandLine cl = new CommandLine(new CryoCli().model());
        for (Map.Entry<String, Supplier<Object>> e : SUBCOMMANDS.entrySet()) {
            if (only == null || only.equals(e.getKey())) {
                cl.addSubcommand(e.getKey(), e.getValue().get());
            }
        }
        applyToAll(cl);
        cl.setExecutionExceptionHandler(new ExitCodes());
        cl.setParameterExceptionHandler(new UsageErrors());
        cl.setExecutionStrategy(new Execution());
        return cl;
    }

    /** Each command's {@code --help} lists the exit codes it can return. */
    private static void applyToAll(CommandLine cl) {
        String name = cl.getParent() == null ? "" : cl.getCommandName();
        cl.getCommandSpec().usageMessage().exitCodeListHeading(ExitCodes.HEADING)
                .exitCodeList(ExitCodes.forCommand(name));
        cl.getSubcommands().values().forEach(CryoCli::applyToAll);
    }

    /*
     * The two classes below are not lambdas on purpose: picocli's jar has class files of version 49, and the JDK 17
     * archive (bin/cryo) leaves out such a class once making the archive linked it — which resolving a lambda that
     * implements or creates one does. As lambdas they kept HelpCommand, IExecutionStrategy, RunLast and three more
     * out of the archive (-Xlog:cds at -Xshare:dump: "Old class has been linked"), loaded from the jar at every start.
     * The distribution's build now rewrites those class files as version 52 (src/build/ModernClassFiles.java); the
     * classes stay, so that a class path with the published jar (tests, ShellFiles) behaves the same.
     */

    /** Creates picocli's {@code help} subcommand. */
    private enum NewHelpCommand implements Supplier<Object> {
        INSTANCE;

        @Override
        public Object get() {
            return new CommandLine.HelpCommand();
        }
    }

    /** Runs a parsed command line through {@link #execute}. */
    private static final class Execution implements CommandLine.IExecutionStrategy {
        @Override
        public int execute(ParseResult parsed) {
            return CryoCli.execute(parsed);
        }
    }

    /** Sets up logging from {@code -v}/{@code -o} before anything logs, then runs the last subcommand. */
    private static int execute(ParseResult parsed) {
        OutputFormat.from(parsed);
        Invocation invocation = Invocation.of(parsed);
        invocation.logFile().ifPresent(file -> checkWritable(parsed, file));
        LogSetup.configure(invocation.verbosity(), invocation.logFile());
        return new CommandLine.RunLast().execute(parsed);
    }

    private static void checkWritable(ParseResult parsed, Path file) {
        try (OutputStream ignored = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            // slf4j-simple would silently fall back to stderr; refuse instead
        } catch (IOException | RuntimeException e) {
            throw new ParameterException(parsed.commandSpec().commandLine(),
                    "cannot write log file " + file + ": " + e.getMessage());
        }
    }
}
