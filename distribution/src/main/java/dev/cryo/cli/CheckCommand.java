package dev.cryo.cli;

import dev.cryo.api.CryoException;
import dev.cryo.api.Pid;
import dev.cryo.core.Cryo;
import dev.cryo.core.KernelCheck;
import dev.cryo.core.PipelineStats;
import dev.cryo.core.config.CryoConfig;
import dev.cryo.core.dump.Dumper;
import dev.cryo.core.image.ImageVerifier;
import dev.cryo.core.image.proto.StatsEntry;
import dev.cryo.core.linux.KernelProbe;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.cryo.cli.CommandModel.flag;
import static dev.cryo.cli.CommandModel.value;

/**
 * {@code cryo check}: without {@code -t}, probe the kernel features cryo needs (exit 4 when one is missing); with
 * {@code -t PID}, a dry run of the dump on the live tree that lists every reason a dump would be refused (exit 3) or
 * says that it would succeed and with which options (exit 0).
 */
final class CheckCommand extends CryoSubcommand {
    CheckCommand() {
        super("check",
                "Without -t: check that this kernel and these privileges support cryo, one line per feature, OK or "
                        + "MISSING with what was tried. Exits 0 when everything is OK, else 4.",
                "",
                "With -t PID: a dry run of `cryo dump` on the live tree. It stops the tree as briefly as a dump's "
                        + "freeze (no memory is copied), looks at every process, mapping, fd and peer as a dump "
                        + "would, and lets the tree run on exactly as before. It lists EVERY reason a dump would be "
                        + "refused, each with the pid, the fd or object and the fix, and exits 3; or says that a "
                        + "dump would succeed, with the command line to use, and exits 0. Give the options you mean "
                        + "to dump with (--external, --file-locks, plugin options...): they are checked too.",
                "",
                "With --images -D DIR: check every file of the image in DIR (inventory, record checksums, the "
                        + "checksum of every page) without restoring it; exits 0 when intact, else 6.");
    }

    @Override
    void addOptions(CommandSpec spec) {
        spec.addMixin(OutputOption.MIXIN, OutputOption.mixin());
        spec.addOption(value("PID", Integer.class, "Dry-run a dump of the tree rooted at PID instead of checking the "
                + "kernel.", "-t", "--tree"));
        spec.addMixin(DryRunOptions.MIXIN, DryRunOptions.mixin());
        spec.addOption(flag("Check the image given with -D instead of the kernel: every file (inventory, record "
                + "checksums, the checksum of every page) without restoring it; exits 0 when intact, else 6.",
                "--images"));
        spec.addOption(value("DIR", Path.class, "Image directory (with --images).", "-D", "--images-dir"));
    }

    @Override
    public Integer call() throws CryoException {
        Path dir = option("--images-dir", null);
        boolean images = option("--images", false);
        if (dir != null && !images) {
            throw usage("cli/MISSING_OPTION", "-D " + dir + " given without --images", "cryo check --images -D " + dir);
        }
        if (images) {
            return checkImages(dir);
        }
        CryoConfig config = loadConfig();
        if (config.value("tree").isEmpty()) {
            return kernel();
        }
        Pid root = Pid.of(positiveInt("tree", "-t/--tree PID", config.value("tree").get()));
        Dumper.CheckReport report;
        try (Cryo cryo = startEngine(config)) {
            report = cryo.check(root);
        }
        PrintWriter out = spec.commandLine().getOut();
        String dumpCommand = dumpCommand(root, spec.commandLine().getParseResult());
        if (OutputFormat.json()) {
            out.println(Json.write(json(report, dumpCommand)));
        } else {
            out.print(text(report, comm(root), dumpCommand));
        }
        out.flush();
        return report.problems().isEmpty() ? ExitCodes.OK : ExitCodes.UNSUPPORTED;
    }

    private int kernel() {
        List<KernelCheck> checks = KernelProbe.checkAll();
        PrintWriter out = spec.commandLine().getOut();
        boolean allOk = checks.stream().allMatch(KernelCheck::ok);
        if (OutputFormat.json()) {
            Map<String, Object> m = JsonResult.success("check");
            m.put("exitCode", allOk ? ExitCodes.OK : ExitCodes.KERNEL);
            m.put("ok", allOk);
            List<Object> features = new ArrayList<>();
            for (KernelCheck c : checks) {
                Map<String, Object> f = Json.object();
                f.put("feature", c.feature());
                f.put("ok", c.ok());
                f.put("detail", c.detail());
                features.add(f);
            }
            m.put("features", features);
            out.println(Json.write(m));
        } else {
            int width = checks.stream().mapToInt(c -> c.feature().length()).max().orElse(0);
            for (KernelCheck c : checks) {
                out.printf("%-7s %-" + Math.max(width, 1) + "s  %s%n", c.ok() ? "OK" : "MISSING", c.feature(),
                        c.detail());
            }
        }
        out.flush();
        return allOk ? ExitCodes.OK : ExitCodes.KERNEL;
    }

    /** @return the report for a person: the verdict, then each problem numbered with its fix and code */
    static String text(Dumper.CheckReport report, String comm, String dumpCommand) {
        StringBuilder sb = new StringBuilder();
        String nl = System.lineSeparator();
        String who = "pid " + report.root() + (comm.isEmpty() ? "" : " \"" + comm + "\"");
        String counts = report.stats().map(CheckCommand::counts).orElse("");
        List<CryoException> problems = report.problems();
        if (problems.isEmpty()) {
            sb.append(who).append(": a dump would succeed").append(counts.isEmpty() ? "" : " (" + counts + ")")
                    .append(nl).append("Dump it with: ").append(dumpCommand).append(nl);
            return sb.toString();
        }
        sb.append(who).append(": a dump would be refused, ").append(problems.size())
                .append(problems.size() == 1 ? " problem" : " problems")
                .append(counts.isEmpty() ? "" : " (" + counts + ")").append(':').append(nl);
        int i = 1;
        for (CryoException e : problems) {
            String indent = " ".repeat(String.valueOf(i).length() + 2);
            sb.append(nl).append(i++).append(". ").append(e.getMessage().replaceFirst("^dump refused: ", ""))
                    .append(nl);
            if (e.fix() != null && !e.fix().isBlank()) {
                sb.append(indent).append("Fix: ").append(e.fix()).append(nl);
            }
            sb.append(indent).append('[').append(e.code()).append(']').append(nl);
        }
        return sb.toString();
    }

    private static String counts(StatsEntry s) {
        return s.getProcesses() + (s.getProcesses() == 1 ? " process, " : " processes, ") + s.getThreads()
                + " threads, " + s.getFds() + " fds, " + PipelineStats.describeBytes(s.getPagesBytes())
                + " of pages to write; the tree was stopped " + PipelineStats.describeUs(s.getFrozenUs());
    }

    static Map<String, Object> json(Dumper.CheckReport report, String dumpCommand) {
        Map<String, Object> m = JsonResult.success("check");
        m.put("ok", report.problems().isEmpty());
        m.put("exitCode", report.problems().isEmpty() ? ExitCodes.OK : ExitCodes.UNSUPPORTED);
        m.put("root", report.root().value());
        m.put("dumpable", report.problems().isEmpty());
        List<Object> problems = new ArrayList<>();
        report.problems().forEach(e -> problems.add(JsonResult.error(e)));
        m.put("problems", problems);
        report.stats().ifPresent(s -> m.put("stats", JsonResult.stats(s)));
        if (report.problems().isEmpty()) {
            m.put("dumpCommand", dumpCommand);
        }
        return m;
    }

    /** @return {@code cryo dump -t PID -D DIR} with the dump options given to this check, as given */
    static String dumpCommand(Pid root, ParseResult parsed) {
        StringBuilder sb = new StringBuilder("cryo dump -t ").append(root).append(" -D DIR");
        ParseResult check = parsed;
        while (check.subcommand() != null) {
            check = check.subcommand();
        }
        for (OptionSpec o : check.matchedOptions().stream().distinct().toList()) {
            String key = CommandLineLayer.key(o);
            if (key.equals("tree") || key.equals("output") || o.usageHelp() || o.versionHelp()
                    || CommandLineLayer.key(o).matches("verbose|log-file|config")) {
                continue;
            }
            List<String> values = o.originalStringValues();
            if (o.arity().max() == 0 || values.isEmpty()) {
                sb.append(' ').append(o.longestName());
                continue;
            }
            for (String v : values) {
                sb.append(' ').append(o.longestName()).append(v.isEmpty() ? "" : (o.arity().min() == 0 ? "=" : " ")
                        + v);
            }
        }
        return sb.toString();
    }

    private static String comm(Pid pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm"), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "";
        }
    }

    private Integer checkImages(Path dir) throws CryoException {
        if (dir == null) {
            throw usage("cli/MISSING_OPTION", "--images needs the image directory", "cryo check --images -D DIR");
        }
        PrintWriter out = spec.commandLine().getOut();
        Path image = path(dir.toString());
        List<ImageVerifier.FileCheck> checks = ImageVerifier.verify(image, c -> {
            out.printf("OK      %-24s %s%n", c.file(), c.describe());
            out.flush();
        });
        long pages = checks.stream().filter(c -> !c.type().hasRecords()).mapToLong(ImageVerifier.FileCheck::count)
                .sum();
        out.printf("image %s is intact: %d files, %d pages%n", image, checks.size(), pages);
        out.flush();
        return ExitCodes.OK;
    }
}
