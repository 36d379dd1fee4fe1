package dev.cryo.cli;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one place where a failure becomes an exit status. Called by picocli once, on the main thread, when a
 * command's {@code call()} throws. A {@link CryoException} is printed by {@link ErrorOutput} and exits with its
 * category's code; its stack trace only with {@code -v} (always for {@code INTERNAL}). Anything else is a bug:
 * exit 70 with the stack trace. Command-line mistakes are reported by {@link UsageErrors} the same way (exit 2).
 *
 * <p>Each command's {@code --help} lists the codes that command can return ({@link #forCommand}), the root's all.
 */
final class ExitCodes implements IExecutionExceptionHandler {
    static final int OK = 0;
    static final int INTERNAL = Category.INTERNAL.exitCode();
    /** {@code cryo check}: a kernel feature is missing. */
    static final int KERNEL = Category.KERNEL.exitCode();
    /** {@code cryo check -t}: a dump would be refused. */
    static final int UNSUPPORTED = Category.UNSUPPORTED.exitCode();

    /** Every code, as {@code cryo --help} lists them; keep in step with {@link Category}. */
    private static final Map<Integer, String> ALL = new LinkedHashMap<>();

    static {
        ALL.put(0, "done");
        ALL.put(1, "restore without -d: the restored root exited non-zero; cryo exits with its status "
                + "(128+N: killed by signal N)");
        ALL.put(2, "usage: wrong command line or option value");
        ALL.put(3, "unsupported resource or external reference in the tree (see the Fix: line)");
        ALL.put(4, "permission or kernel: a kernel call failed or was not permitted (run as root; see `cryo check`)");
        ALL.put(5, "plugin or configuration problem");
        ALL.put(6, "image missing, incomplete, corrupt or of another format");
        ALL.put(7, "conflict with the system: pid in use, file changed, peer missing");
        ALL.put(8, "no such process: the pid given with -t does not exist");
        ALL.put(70, "internal error (a bug: please report it with the output of -v)");
    }

    /** What each command can return, by command name (the root: all). */
    private static final Map<String, List<Integer>> BY_COMMAND = Map.of(
            "dump", List.of(0, 2, 3, 4, 5, 6, 8, 70),
            "restore", List.of(0, 1, 2, 3, 4, 5, 6, 7, 70),
            "check", List.of(0, 2, 3, 4, 5, 8, 70),
            "show", List.of(0, 2, 5, 6, 70),
            "graph", List.of(0, 2, 3, 4, 5, 6, 8, 70),
            "plugins", List.of(0, 2, 5, 70),
            "help", List.of(0, 2));

    static final String HEADING = "%nExit codes:%n";

    /** @return the exit code table of {@code command}'s {@code --help} ({@code code -> meaning}, aligned) */
    static Map<String, String> forCommand(String command) {
        List<Integer> codes = BY_COMMAND.getOrDefault(command, List.copyOf(ALL.keySet()));
        Map<String, String> table = new LinkedHashMap<>();
        for (int code : codes) {
            String meaning = ALL.get(code);
            if (command.equals("check") && code == 3) {
                meaning = "with -t: a dump of the tree would be refused (every reason is listed)";
            } else if (command.equals("graph") && code == 3) {
                meaning = "with -t: the tree could not be looked at (e.g. its root is a kernel thread)";
            } else if (command.equals("check") && code == 4) {
                meaning = "a kernel feature cryo needs is missing, or a kernel call was not permitted";
            }
            table.put(code < 10 ? " " + code : Integer.toString(code), meaning); // as %2d: no Formatter at start-up
        }
        return table;
    }

    /** @return the codes {@code command} can return */
    static List<Integer> codesOf(String command) {
        return BY_COMMAND.getOrDefault(command, List.copyOf(ALL.keySet()));
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine commandLine, ParseResult parseResult) {
        boolean verbose = Invocation.of(parseResult).verbosity() > 0;
        if (ex instanceof CryoException e) {
            ErrorOutput.print(commandLine, e, verbose || e.category() == Category.INTERNAL);
            return e.category().exitCode();
        }
        CryoException internal = new CryoException(Category.INTERNAL, "cli/INTERNAL", "internal error: " + ex, null, ex);
        if (OutputFormat.json()) {
            ErrorOutput.print(commandLine, internal, false);
        }
        commandLine.getErr().println("internal error: " + ex);
        ex.printStackTrace(commandLine.getErr());
        commandLine.getErr().flush();
        return INTERNAL;
    }
}
