package dev.cryo.cli;

import dev.cryo.api.CryoException;
import dev.cryo.core.Cryo;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

import static dev.cryo.cli.CommandModel.flag;
import static dev.cryo.cli.CommandModel.repeatable;
import static dev.cryo.cli.CommandModel.value;

/**
 * {@code cryo show -D DIR}: a readable summary of an image (the tree, per process a maps-like table and its fds);
 * {@code --json} for every record as JSON, {@code --pid} and {@code --file} to narrow it.
 */
final class ShowCommand extends CryoSubcommand {
    ShowCommand() {
        super("show",
                "Show the image in DIR. By default a summary: the image (when, by which cryo, which plugins), the "
                        + "dump's statistics, the process tree (pid, ppid, pgid, sid, threads, state, name), and per "
                        + "process a table of its mappings like /proc/PID/maps (hex addresses, permissions, size, "
                        + "pages saved, name) and of its fds (number, kind, target).",
                "With --json: every record of every file (or of the files --file and --pid select) as JSON, one "
                        + "header line `# FILE (TYPE, N records)` per file; page contents are summarised.");
    }

    @Override
    String[] footer() {
        return new String[] {"", "Examples:",
            "  cryo show -D /var/lib/cryo/img                    the summary",
            "  cryo show -D /var/lib/cryo/img --pid 812          one process's mappings and fds",
            "  cryo show -D /var/lib/cryo/img --json --pid 812   its records, in full",
            "  cryo show -D /var/lib/cryo/img --file pstree.img  one file's records"};
    }

    @Override
    void addOptions(CommandSpec spec) {
        spec.addOption(value("DIR", Path.class, "Image directory written by `cryo dump`.", "-D", "--images-dir"));
        spec.addPositional(PositionalParamSpec.builder().index("0").arity("0..1").type(Path.class).paramLabel("DIR")
                .description("The same as -D DIR (kept for compatibility).").build());
        spec.addOption(flag("Every record as JSON instead of the summary.", "--json"));
        spec.addOption(repeatable("PID", Integer.class, "Only this process (repeatable).", "--pid"));
        spec.addOption(repeatable("NAME", String.class, "Only this image file, e.g. pstree.img or fdinfo-812.img "
                + "(repeatable; implies --json).", "--file"));
    }

    @Override
    public Integer call() throws CryoException {
        Path imagesDir = option("--images-dir", null);
        Path positionalDir = spec.commandLine().getParseResult().matchedPositionalValue(0, null);
        boolean json = option("--json", false);
        List<Integer> pids = option("--pid", null);
        List<String> files = option("--file", null);
        Path dir = imagesDir != null ? imagesDir : positionalDir;
        if (dir == null) {
            throw usage("cli/MISSING_OPTION", "missing -D/--images-dir DIR", "give the image directory: cryo show -D DIR");
        }
        if (imagesDir != null && positionalDir != null && !imagesDir.equals(positionalDir)) {
            throw usage("cli/CONFLICTING_OPTIONS", "two image directories: -D " + imagesDir + " and " + positionalDir,
                    "give one");
        }
        Set<Integer> pidSet = pids == null ? Set.of() : new LinkedHashSet<>(pids);
        try (Cryo cryo = startEngine(loadConfig())) {
            PrintWriter out = spec.commandLine().getOut();
            if (json || files != null) {
                cryo.show(path(dir.toString()), out, include(pidSet, files == null ? List.of() : files));
            } else {
                cryo.summary(path(dir.toString()), pidSet, out);
            }
            out.flush();
        }
        return ExitCodes.OK;
    }

    /** @return the files to render: those named, and those of the pids ({@code core-812.img}...); all if neither */
    static Predicate<String> include(Set<Integer> pids, List<String> files) {
        if (pids.isEmpty() && files.isEmpty()) {
            return name -> true;
        }
        return name -> files.contains(name) || pids.stream().anyMatch(p -> name.endsWith("-" + p + ".img"));
    }
}
