package dev.cryo.cli;

import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Pid;
import dev.cryo.core.Cryo;
import dev.cryo.core.RestoreRequest;
import dev.cryo.core.RestoredTree;
import dev.cryo.core.config.CryoConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

import static dev.cryo.cli.CommandModel.flag;
import static dev.cryo.cli.CommandModel.repeatable;
import static dev.cryo.cli.CommandModel.value;

/**
 * {@code cryo restore}: recreate the dumped tree with the same pids. Without {@code -d} cryo stays the restored
 * root's parent and exits with its status; with {@code -d} it exits 0 as soon as the tree runs.
 */
final class RestoreCommand extends CryoSubcommand {
    RestoreCommand() {
        super("restore",
                "Restore the tree dumped into DIR, with the same pids, memory, registers and open files.",
                "",
                "Without -d, cryo waits for the restored root and exits with its exit status (128+N when signal N "
                        + "killed it), so `cryo restore` stands in for the original process.",
                "The dumped pids must be free: after `cryo dump -R` (leave running), restore only after the original "
                        + "is gone: same pids.");
    }

    @Override
    void addOptions(CommandSpec spec) {
        spec.addMixin(OutputOption.MIXIN, OutputOption.mixin());
        spec.addOption(value("DIR", Path.class, "Image directory to read (required).", "-D", "--images-dir"));
        spec.addOption(flag("Exit 0 as soon as the restored tree runs, instead of waiting for the root to exit; "
                + "the tree goes on without cryo.", "-d", "--restore-detached"));
        spec.addOption(flag("Leave the restored tree stopped (SIGSTOP); resume it with `kill -CONT PID`. "
                + "Without -d cryo still waits for the root to exit.", "-s", "--leave-stopped"));
        spec.addOption(value("FILE", Path.class, "Write the restored root's pid to FILE.", "--pidfile"));
        spec.addOption(repeatable("fd[N]:RES", String.class, "Give the restored tree cryo's fd N in place of the "
                + "dumped resource RES (repeatable).", "--inherit-fd"));
        spec.addOption(flag("Give the restored tree the terminal cryo runs on (its stdin, stdout or stderr) in place "
                + "of the terminal it had at dump (dumped with -j).", "-j", "--shell-job"));
        spec.addOption(flag("Re-take the file locks recorded by `dump --file-locks` in the restored processes; an "
                + "image holding locks is refused without it.", "--file-locks"));
        spec.addOption(flag("Print the restore's statistics once the tree runs: time per phase, pages loaded, image "
                + "bytes read (kept in stats-restore.img either way; -v logs them on one line).", "--stats"));
    }

    @Override
    public Integer call() throws CryoException {
        CryoConfig config = loadConfig();
        RestoreRequest request = request(config); // usage errors before any plugin loads
        try (Cryo cryo = startEngine(config)) {
            RestoredTree tree = cryo.progress(progress("restore")).restore(request);
            printStats(config, tree.stats());
            Pid root = tree.root();
            if (request.pidFile().isPresent()) {
                writePidFile(request.pidFile().get(), root);
            }
            if (request.detached()) {
                tree.detach();
                log().info("restored tree {} from {}, detached", root, request.imageDir());
                printJson(tree, request, null);
                return ExitCodes.OK;
            }
            log().info("restored tree {} from {}, waiting for it", root, request.imageDir());
            int status = tree.waitForExit();
            log().info("restored root {} exited with status {}", root, status);
            printJson(tree, request, status);
            return status;
        }
    }

    /**
     * With {@code --output json}: the result, once the tree runs ({@code -d}) or once its root exited (then
     * {@code rootExitStatus}, which is also cryo's exit status).
     */
    private void printJson(RestoredTree tree, RestoreRequest request, Integer rootStatus) {
        if (!OutputFormat.json()) {
            return;
        }
        java.util.Map<String, Object> m = JsonResult.success("restore", tree.root(), request.imageDir());
        m.put("detached", request.detached());
        if (rootStatus != null) {
            m.put("exitCode", rootStatus);
            m.put("rootExitStatus", rootStatus);
        }
        printJsonResult(m, tree.stats());
    }

    /** Builds the request from the effective config (command line over config files). */
    static RestoreRequest request(Config config) throws CryoException {
        Path dir = path(required(config, "images-dir", "-D/--images-dir DIR"));
        for (String inherit : config.values("inherit-fd")) {
            if (!inherit.matches("fd\\[\\d+\\]:.+")) {
                throw usage("cli/BAD_VALUE", "invalid value for --inherit-fd: '" + inherit + "'",
                        "write it as fd[N]:RES, e.g. --inherit-fd fd[3]:pipe:[12345]");
            }
        }
        Optional<Path> pidFile = config.value("pidfile").filter(v -> !v.isBlank()).map(CryoSubcommand::path);
        return new RestoreRequest(dir, config.isSet("restore-detached"), config.isSet("leave-stopped"), pidFile);
    }

    /** Writes {@code pid} and a newline to {@code file}, replacing it atomically (a reader never sees half). */
    static void writePidFile(Path file, Pid pid) throws CryoException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, pid + "\n", StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new CryoException(Category.KERNEL, "cli/PIDFILE",
                    "writing pidfile " + file + " failed: " + e + " (restored tree " + pid + " is running)",
                    "choose a writable path for --pidfile", e);
        }
    }

    /** Looked up on use: the logger must not exist before the command line has configured logging. */
    private static Logger log() {
        return LoggerFactory.getLogger(RestoreCommand.class);
    }
}
