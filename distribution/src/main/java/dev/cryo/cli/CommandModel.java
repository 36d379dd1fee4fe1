package dev.cryo.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.List;

/**
 * Builds cryo's command model with picocli's programmatic API ({@link CommandSpec}, {@link OptionSpec}) rather than
 * its annotations. Why (issue 13): picocli reads annotations reflectively, and the JDK's first annotation read of a
 * process builds its annotation parser and a proxy class per annotation type — about 70 ms of CPU on the main thread
 * of every command, a fifth of a small dump (measured on one core against the shipped class data archive). A model
 * built from these calls costs a few milliseconds and no class is generated at run time.
 *
 * <p>Each command declares its own options in a {@code model()} method (its {@code CommandSpec}, with the command
 * object as picocli's user object and its {@code spec} set); option values are read back from the parse result
 * ({@link CryoSubcommand#option}) or, for settings, from the effective config ({@link CommandLineLayer}), never
 * from fields. Main thread, once per command model.
 */
final class CommandModel {
    private CommandModel() {
    }

    /** @return a command named {@code name} running {@code userObject}, with cryo's version provider */
    static CommandSpec command(Object userObject, String name, boolean sortOptions, String... description) {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(userObject).name(name)
                .versionProvider(new VersionProvider());
        spec.usageMessage().description(description).sortOptions(sortOptions);
        return spec;
    }

    /**
     * Adds {@code -h/--help} and {@code -V/--version} as picocli's {@code mixinStandardHelpOptions} does (same names,
     * descriptions and place: after the command's own options), without the annotated mixin it reads for them.
     */
    static CommandSpec helpOptions(CommandSpec spec) {
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true)
                .description("Show this help message and exit.").build());
        spec.addOption(OptionSpec.builder("-V", "--version").versionHelp(true)
                .description("Print version information and exit.").build());
        return spec;
    }

    /** @return an option without a value (a flag) */
    static OptionSpec flag(String description, String... names) {
        return OptionSpec.builder(names).arity("0").type(boolean.class).description(description).build();
    }

    /** @return an option taking one value of {@code type}, shown as {@code paramLabel} */
    static OptionSpec value(String paramLabel, Class<?> type, String description, String... names) {
        return OptionSpec.builder(names).arity("1").type(type).paramLabel(paramLabel).description(description)
                .build();
    }

    /** @return an option taking one value of {@code type} per occurrence, collected in a list */
    static OptionSpec repeatable(String paramLabel, Class<?> type, String description, String... names) {
        return OptionSpec.builder(names).arity("1").type(List.class).auxiliaryTypes(type).paramLabel(paramLabel)
                .description(description).build();
    }

    /** @return a mixin (options shared by several commands, added to each with its own copies) */
    static CommandSpec mixin(OptionSpec... options) {
        CommandSpec mixin = CommandSpec.create();
        for (OptionSpec o : options) {
            mixin.addOption(o);
        }
        return mixin;
    }
}
