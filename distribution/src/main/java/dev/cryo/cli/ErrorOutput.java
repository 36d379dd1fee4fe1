package dev.cryo.cli;

import dev.cryo.api.CryoException;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.util.Map;

/**
 * How an error reaches the operator: as text on stderr — {@link CryoException#render()} (one line, {@code Fix:},
 * the code), followed for a usage error by the command's short usage line — or, with {@code --output json}, as
 * the one JSON result on stdout ({@link JsonResult}). Used by {@link UsageErrors} and {@link ExitCodes}, on the
 * main thread.
 */
final class ErrorOutput {
    private ErrorOutput() {
    }

    static void print(CommandLine cmd, CryoException e, boolean stackTrace) {
        if (OutputFormat.json()) {
            Map<String, Object> result = JsonResult.failure(cmd.getCommandSpec().name(), e);
            PrintWriter out = cmd.getOut();
            out.println(Json.write(result));
            out.flush();
            return;
        }
        PrintWriter err = cmd.getErr();
        err.println(e.render());
        if (e.category() == CryoException.Category.USAGE) {
            UsageErrors.printUsageLine(cmd, err);
        }
        if (stackTrace) {
            e.printStackTrace(err);
        }
        err.flush();
    }
}
