package dev.cryo.cli;

import dev.cryo.api.CryoException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

import java.io.PrintWriter;

/**
 * The one place where a failure becomes an exit status. Called by picocli once, on the main thread, when a
 * command's {@code call()} throws. A {@link CryoException} prints {@link CryoException#render()} on stderr and
 * exits with its category's code; its stack trace only with {@code -v} (always for {@code INTERNAL}). Anything
 * else is a bug: exit 70 with the stack trace. Command-line mistakes never get here: picocli reports them and
 * exits 2 ({@link CommandLine.ExitCode#USAGE}).
 */
final class ExitCodes implements IExecutionExceptionHandler {
    static final int OK = 0;
    static final int INTERNAL = CryoException.Category.INTERNAL.exitCode();
    /** {@code cryo check}: a kernel feature is missing. */
    static final int KERNEL = CryoException.Category.KERNEL.exitCode();

    /** The exit code table of {@code --help}; keep in step with {@link CryoException.Category}. */
    static final String[] HELP = {
        " 0:done",
        " 1:restore without -d: the restored root exited non-zero; cryo exits with its status (128+N: killed by signal N)",
        " 2:usage: wrong command line or option value",
        " 3:unsupported resource or external reference in the tree (see the Fix: line)",
        " 4:permission or kernel: a kernel call failed or was not permitted (run as root; see `cryo check`)",
        " 5:plugin or configuration problem",
        " 6:image missing, incomplete, corrupt or of another format",
        " 7:conflict with the system: pid in use, file changed, peer missing",
        "70:internal error (a bug: please report it with the output of -v)",
    };

    static final String HEADING = "%nExit codes:%n";

    @Override
    public int handleExecutionException(Exception ex, CommandLine commandLine, ParseResult parseResult) {
        boolean verbose = Invocation.of(parseResult).verbosity() > 0;
        PrintWriter err = commandLine.getErr();
        int status;
        if (ex instanceof CryoException e) {
            err.println(e.render());
            if (verbose || e.category() == CryoException.Category.INTERNAL) {
                e.printStackTrace(err);
            }
            status = e.category().exitCode();
        } else {
            err.println("internal error: " + ex);
            ex.printStackTrace(err);
            status = INTERNAL;
        }
        err.flush();
        return status;
    }
}
