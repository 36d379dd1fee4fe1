package dev.cryo.cli;

import dev.cryo.api.CryoException;
import dev.cryo.api.PluginOption;
import dev.cryo.core.CryoHome;
import dev.cryo.core.config.ConfigKeys;
import dev.cryo.core.config.OptionSet;
import dev.cryo.core.plugin.PluginHost;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The options the plugins of {@code plugins/} declare ({@link PluginOption}), merged into the command line: each
 * subcommand a plugin option names gets it, under a heading per plugin in {@code --help}. Values are read back
 * from the effective config by the plugins, like every option; core's commands never name them. Built once per
 * invocation, on the main thread, before parsing.
 */
final class PluginOptions {
    /** The option set of this invocation: core's plus every plugin's. */
    private static OptionSet current = OptionSet.core();

    private PluginOptions() {
    }

    static OptionSet current() {
        return current;
    }

    /**
     * Reads the plugins' declarations (no plugin code runs) and adds their options to the subcommands.
     *
     * @throws CryoException for an unreadable plugin or a malformed or clashing declaration
     */
    static void install(CommandLine root, CryoHome home) throws CryoException {
        if (!home.exists()) {
            return;
        }
        install(root, home, PluginHost.declaredOptions(home.pluginsDir()));
    }

    /** As {@link #install(CommandLine, CryoHome)}, with the declarations already read from {@code home}'s plugins. */
    static void install(CommandLine root, CryoHome home, Map<String, List<PluginOption>> declared)
            throws CryoException {
        if (!home.exists()) {
            return;
        }
        install(root, OptionSet.withPlugins(declared));
    }

    /** Adds the plugin options of {@code options} to the subcommands and makes it the invocation's option set. */
    static void install(CommandLine root, OptionSet options) {
        current = options;
        Map<String, Map<String, ArgGroupSpec.Builder>> groups = new LinkedHashMap<>();
        for (ConfigKeys.Key k : current.all()) {
            if (k.plugin().isEmpty()) {
                continue;
            }
            // `check -t` and `graph -t` run the dump's pipeline dry: they take every dump option
            Set<String> commands = new java.util.LinkedHashSet<>();
            for (PluginOption.Command c : k.commands()) {
                commands.add(c.name().toLowerCase(java.util.Locale.ROOT));
                if (c == PluginOption.Command.DUMP) {
                    commands.add("check");
                    commands.add("graph");
                }
            }
            for (String c : commands) {
                CommandLine sub = root.getSubcommands().get(c);
                if (sub == null) {
                    continue;
                }
                groups.computeIfAbsent(sub.getCommandName(), n -> new LinkedHashMap<>())
                        .computeIfAbsent(k.plugin().get(), p -> ArgGroupSpec.builder().exclusive(false)
                                .validate(false).multiplicity("0..1")
                                .heading("%nOptions of plugin " + p + ":%n"))
                        .addArg(option(k));
            }
        }
        for (Map.Entry<String, Map<String, ArgGroupSpec.Builder>> e : groups.entrySet()) {
            CommandSpec spec = root.getSubcommands().get(e.getKey()).getCommandSpec();
            for (ArgGroupSpec.Builder g : e.getValue().values()) {
                spec.addArgGroup(g.build());
            }
        }
    }

    private static OptionSpec option(ConfigKeys.Key k) {
        OptionSpec.Builder b = OptionSpec.builder("--" + k.name()).description(k.description()
                + (k.repeatable() ? " (repeatable)" : "") + " (config key `" + k.name() + "`)");
        switch (k.shape()) {
            case FLAG -> b.arity("0").type(boolean.class);
            case VALUE -> b.arity("1").paramLabel(k.valueHint()).type(k.repeatable() ? List.class : String.class)
                    .auxiliaryTypes(String.class);
            case FLAG_OR_VALUE -> b.arity("0..1").fallbackValue("").paramLabel(k.valueHint()).type(String.class);
        }
        return b.build();
    }

    /** @return whether {@code args} runs a subcommand that takes plugin options (or asks for help on one) */
    static boolean needed(String[] args) {
        Set<String> subs = Set.of("dump", "restore", "check", "graph", "help", "plugins");
        for (String a : args) {
            if (subs.contains(a)) {
                return true;
            }
        }
        return false;
    }
}
