package dev.cryo.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code --output text|json} of {@code dump}, {@code restore}, {@code check} and {@code plugins}: a mixin
 * ({@link CommandModel}). The value is read by {@link OutputFormat} (before parsing and from the parse result).
 */
final class OutputOption {
    /** The name of this mixin in the commands that take it. */
    static final String MIXIN = "output";

    enum Format { text, json }

    private OutputOption() {
    }

    /** @return a new copy of the option, to mix into one command */
    static CommandSpec mixin() {
        return CommandModel.mixin(OptionSpec.builder("--output").arity("1").type(Format.class).paramLabel("FORMAT")
                .defaultValue("text").description("text (default) or json: one JSON object on stdout with the "
                        + "result, or the error with its code and fix (see README, \"Machine-readable output\").")
                .build());
    }
}
