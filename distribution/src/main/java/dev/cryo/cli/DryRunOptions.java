package dev.cryo.cli;

import picocli.CommandLine.Model.CommandSpec;

import static dev.cryo.cli.CommandModel.flag;
import static dev.cryo.cli.CommandModel.repeatable;

/**
 * The dump options a dry run on a live tree ({@code cryo check -t}, {@code cryo graph -t}) takes so that it judges the
 * tree as the dump would: {@code --external}, {@code --file-locks}, {@code -j}; a mixin ({@link CommandModel}). Like
 * every setting, their values reach the engine through {@link CommandLineLayer} (the parse result).
 */
final class DryRunOptions {
    /** The name of this mixin in the commands that take it. */
    static final String MIXIN = "dryRun";

    private DryRunOptions() {
    }

    /** @return a new copy of the options, to mix into one command */
    static CommandSpec mixin() {
        return CommandModel.mixin(
                repeatable("RES", String.class, "With -t, as on dump: a resource outside the tree the tree may "
                        + "reference (repeatable).", "--external"),
                flag("With -t, as on dump: the file locks the tree holds are accepted.", "--file-locks"),
                flag("With -t, as on dump: fds on the tree's terminal are accepted.", "-j", "--shell-job"));
    }
}
