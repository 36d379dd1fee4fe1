package dev.cryo.cli;

import java.util.List;
import picocli.CommandLine.Option;

/**
 * The dump options a dry run on a live tree ({@code cryo check -t}, {@code cryo graph -t}) takes so that it judges the
 * tree as the dump would: {@code --external}, {@code --file-locks}, {@code -j}. Like every option, their values reach
 * the engine through {@link CommandLineLayer} (the parse result), not through these fields.
 */
final class DryRunOptions {
    @Option(names = "--external", paramLabel = "RES",
            description = "With -t, as on dump: a resource outside the tree the tree may reference (repeatable).")
    List<String> external;

    @Option(names = "--file-locks", description = "With -t, as on dump: the file locks the tree holds are accepted.")
    boolean fileLocks;

    @Option(names = {"-j", "--shell-job"},
            description = "With -t, as on dump: fds on the tree's terminal are accepted.")
    boolean shellJob;
}
