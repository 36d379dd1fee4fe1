package dev.cryo.cli;

import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;

import static dev.cryo.cli.CommandModel.flag;
import static dev.cryo.cli.CommandModel.value;

/**
 * Options accepted both before and after the subcommand ({@code cryo -v dump -v ...}): a mixin of every command
 * ({@link CommandModel}). The root's and the subcommand's values are combined by {@link Invocation}: {@code -v}
 * counts add up, a file given after the subcommand wins over one given before it.
 */
final class GlobalOptions {
    /** The name of this mixin in every command. */
    static final String MIXIN = "global";

    private GlobalOptions() {
    }

    /** @return a new copy of the global options, to mix into one command */
    static CommandSpec mixin() {
        return CommandModel.mixin(
                picocli.CommandLine.Model.OptionSpec.builder("-v", "--verbose").arity("0").type(boolean[].class)
                        .description("More output; repeat for more: -v info (and stack traces of errors), -vv debug, "
                                + "-vvv trace.").build(),
                flag("No progress line on stderr (shown on a terminal for a dump or restore that takes more than a "
                        + "second).", "-q", "--quiet"),
                value("FILE", Path.class, "Write the log to FILE instead of stderr (errors are still printed on "
                        + "stderr).", "-o", "--log-file"),
                value("FILE", Path.class, "Read options from FILE after /etc/cryo/cryo.conf and $CRYO_CONFIG, "
                        + "before the command line.", "--config"));
    }
}
