package dev.cryo.cli;

import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.Cryo;
import dev.cryo.core.CryoHome;
import dev.cryo.core.config.ConfigLoader;
import dev.cryo.core.config.CryoConfig;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * What every {@code cryo} subcommand shares: the global options, the config chain, the engine start, and reading
 * typed option values back from the effective {@link Config} (so a value set in a config file counts like one on
 * the command line). One instance per invocation, used on the main thread.
 */
abstract class CryoSubcommand implements Callable<Integer> {
    /** This command's model, set by {@link #model()}. */
    CommandSpec spec;

    private final String name;
    private final String[] description;

    /**
     * @param name        the subcommand's name
     * @param description the paragraphs of its description in {@code --help}
     */
    CryoSubcommand(String name, String... description) {
        this.name = name;
        this.description = description;
    }

    /**
     * @return this command's model ({@link CommandModel}): the command, the global options first, then those of
     *     {@link #addOptions}, then help and version
     */
    final CommandSpec model() {
        spec = CommandModel.command(this, name, sortOptions(), description);
        spec.usageMessage().footer(footer());
        spec.addMixin(GlobalOptions.MIXIN, GlobalOptions.mixin());
        addOptions(spec);
        CommandModel.helpOptions(spec);
        return spec;
    }

    /** @return the lines {@code --help} ends with (examples), none by default */
    String[] footer() {
        return new String[0];
    }

    /** @return whether {@code --help} lists the options sorted by name (else in the order they are added) */
    boolean sortOptions() {
        return false;
    }

    /** Adds the command's own options (and mixins) to {@code spec}, in the order {@code --help} lists them. */
    abstract void addOptions(CommandSpec spec);

    /**
     * @return the value of this command's option {@code name} (any of its names) as parsed, or {@code absent} when
     *     the command line does not give it
     */
    final <T> T option(String name, T absent) {
        return spec.commandLine().getParseResult().matchedOptionValue(name, absent);
    }

    /** The distribution this cryo runs from ({@code -Dcryo.home}, set by {@code bin/cryo}). */
    static CryoHome home() {
        return CryoHome.fromSystem();
    }

    /** Loads the config chain with this command line as its top layer. */
    final CryoConfig loadConfig() throws CryoException {
        ParseResult parsed = spec.root().commandLine().getParseResult();
        Optional<Path> explicit = Invocation.of(parsed).configFile().map(Path::toAbsolutePath);
        return ConfigLoader.load(home().root(), System.getenv(), explicit, CommandLineLayer.entries(parsed),
                PluginOptions.current());
    }

    /** Loads the plugins {@code config} enables. */
    static Cryo startEngine(CryoConfig config) throws CryoException {
        CryoHome home = home();
        if (!home.exists()) {
            throw new CryoException(Category.PLUGIN_CONFIG, "cli/NO_HOME",
                    "cryo home " + home.root() + " has no plugins/ directory",
                    "run cryo through bin/cryo of an unpacked distribution (it sets -Dcryo.home), "
                            + "or add -Dcryo.home=DIR to CRYO_JAVA_OPTS");
        }
        return Cryo.start(home, config);
    }

    /** @return the progress line of {@code command} on stderr, or nothing (not a terminal, --quiet, --output json) */
    final dev.cryo.core.Progress progress(String command) {
        return ProgressDisplay.of(command, Invocation.of(spec.root().commandLine().getParseResult()));
    }

    /** With {@code --stats} (and text output): the pipeline's statistics on stdout, one figure a line. */
    final void printStats(Config config, dev.cryo.core.image.proto.StatsEntry stats) {
        if (config.isSet(dev.cryo.core.config.ConfigKeys.STATS) && !OutputFormat.json()) {
            spec.commandLine().getOut().print(dev.cryo.core.PipelineStats.report(stats));
            spec.commandLine().getOut().flush();
        }
    }

    /** With {@code --output json}: adds the pipeline's {@code stats} to {@code result} and prints it on stdout. */
    final void printJsonResult(java.util.Map<String, Object> result, dev.cryo.core.image.proto.StatsEntry stats) {
        result.put("stats", JsonResult.stats(stats));
        spec.commandLine().getOut().println(Json.write(result));
        spec.commandLine().getOut().flush();
    }

    // ---- typed values of the effective config; every message names the option and its config key ----

    /** A usage error raised after parsing, printed like {@link UsageErrors}'s (code {@code cli/<what>}). */
    static CryoException usage(String code, String message, String fix) {
        return new CryoException(Category.USAGE, code, message, fix);
    }

    /** @return the value of {@code key}, or a usage error naming the option spelled {@code option} */
    static String required(Config config, String key, String option) throws CryoException {
        return config.value(key).filter(v -> !v.isBlank()).orElseThrow(() -> usage("cli/MISSING_OPTION",
                "missing " + option, "pass " + option + " (or set `" + key + "` in a config file)"));
    }

    static Path path(String value) {
        return Path.of(value).toAbsolutePath().normalize();
    }

    static int positiveInt(String key, String option, String value) throws CryoException {
        try {
            int n = Integer.parseInt(value.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw usage("cli/BAD_VALUE", "invalid value for " + option.split(" ")[0] + ": '" + value
                + "' is not a pid (a positive whole number)", "give a pid, e.g. " + option.split("[/ ]")[0] + " 1234");
    }

}
