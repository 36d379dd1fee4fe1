package dev.cryo.cli;

import picocli.CommandLine.Option;

/**
 * {@code --output text|json} of {@code dump}, {@code restore}, {@code check} and {@code plugins}. The value is read
 * by {@link OutputFormat} (before parsing and from the parse result), not from this field.
 */
public final class OutputOption {
    /** The field name of this mixin in the commands that take it. */
    static final String MIXIN = "output";

    enum Format { text, json }

    @Option(names = "--output", paramLabel = "FORMAT", defaultValue = "text",
            description = "text (default) or json: one JSON object on stdout with the result, or the error with its "
                    + "code and fix (see README, \"Machine-readable output\").")
    Format format = Format.text;
}
