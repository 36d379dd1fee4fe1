package dev.cryo.cli;

import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.Pid;
import dev.cryo.core.Cryo;
import dev.cryo.core.DumpRequest;
import dev.cryo.core.config.CryoConfig;
import dev.cryo.core.image.proto.StatsEntry;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.Map;

import static dev.cryo.cli.CommandModel.flag;
import static dev.cryo.cli.CommandModel.repeatable;
import static dev.cryo.cli.CommandModel.value;

/**
 * {@code cryo dump}: checkpoint a process tree into an image directory. Options keep CRIU's spelling; the model only
 * declares them ({@link CommandModel}): values are read back from the effective config, where a config file may set
 * them too.
 */
final class DumpCommand extends CryoSubcommand {
    DumpCommand() {
        super("dump",
                "Checkpoint the process tree rooted at PID into DIR.",
                "",
                "By default the tree is killed once the image is complete (like CRIU). Any failure leaves the tree "
                        + "running as before and removes the partial image.",
                "With -R/--leave-running the tree goes on running; it can be restored later only after the original "
                        + "is gone, because the restored processes get the same pids.");
    }

    @Override
    void addOptions(CommandSpec spec) {
        spec.addMixin(OutputOption.MIXIN, OutputOption.mixin());
        spec.addOption(value("PID", Integer.class, "Root of the tree to dump (required).", "-t", "--tree"));
        spec.addOption(value("DIR", Path.class, "Image directory to write (required); created 0700, files 0600.",
                "-D", "--images-dir"));
        spec.addOption(flag("Leave the tree running after the dump. Restore only after the original is gone: "
                + "same pids.", "-R", "--leave-running"));
        spec.addOption(flag("Leave the tree stopped (SIGSTOP) after the dump instead of killing it.",
                "-s", "--leave-stopped"));
        spec.addOption(repeatable("RES", String.class, "Declare a resource outside the tree that the tree may "
                + "reference (repeatable).", "--external"));
        spec.addOption(flag("Accept fds on the terminal the tree runs on (a job started from a shell); restore it "
                + "with -j too, and it gets the terminal cryo restore runs on.", "-j", "--shell-job"));
        spec.addOption(flag("Record the file locks (flock, POSIX fcntl, OFD) the tree holds, to be re-taken on "
                + "restore; without it a tree holding a lock is refused. Pass it on restore too.", "--file-locks"));
        spec.addOption(flag("Replace an existing image in DIR instead of refusing to.", "--overwrite-images"));
        spec.addOption(flag("fsync every image file and DIR before the dump completes, so that the image survives a "
                + "power loss right after it. Off by default (as CRIU): the page cache writes it back later.",
                "--fsync"));
        spec.addOption(flag("Print the dump's statistics when it is done: time per phase, frozen time, pages scanned "
                + "and written, image bytes (kept in stats-dump.img either way; -v logs them on one line).",
                "--stats"));
    }

    @Override
    public Integer call() throws CryoException {
        CryoConfig config = loadConfig();
        DumpRequest request = request(config); // usage errors before any plugin loads
        StatsEntry stats;
        try (Cryo cryo = startEngine(config)) {
            stats = cryo.progress(progress("dump")).dump(request);
            LoggerFactory.getLogger(DumpCommand.class).info("dumped tree {} into {} ({})",
                    request.root(), request.imageDir(), request.after());
        }
        if (OutputFormat.json()) {
            Map<String, Object> m = JsonResult.success("dump", request.root(), request.imageDir());
            m.put("after", request.after().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
            printJsonResult(m, stats);
        } else {
            printStats(config, stats);
        }
        return ExitCodes.OK;
    }

    /** Builds the request from the effective config (command line over config files). */
    static DumpRequest request(Config config) throws CryoException {
        Pid root = Pid.of(positiveInt("tree", "-t/--tree PID", required(config, "tree", "-t/--tree PID")));
        Path dir = path(required(config, "images-dir", "-D/--images-dir DIR"));
        boolean running = config.isSet("leave-running");
        boolean stopped = config.isSet("leave-stopped");
        if (running && stopped) {
            throw usage("cli/CONFLICTING_OPTIONS", "-R/--leave-running and -s/--leave-stopped exclude each other",
                    "give one of them (check `leave-running`/`leave-stopped` in your config files)");
        }
        DumpRequest.After after = running ? DumpRequest.After.LEAVE_RUNNING
                : stopped ? DumpRequest.After.LEAVE_STOPPED : DumpRequest.After.KILL;
        return new DumpRequest(root, dir, after);
    }
}
