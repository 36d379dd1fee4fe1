package dev.cryo.cli;

import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code --output text|json} of this invocation. Known before parsing from a scan of the arguments (so that a
 * command line that does not parse is reported in the format asked for) and confirmed from the parse result.
 * One value per process, set on the main thread before any output.
 */
final class OutputFormat {
    private static boolean json;

    private OutputFormat() {
    }

    static boolean json() {
        return json;
    }

    static void set(boolean asJson) {
        json = asJson;
    }

    /** Sets the format from raw arguments (before a {@code --}): {@code --output json}, {@code --output=json}. */
    static void prescan(String[] args) {
        boolean j = false;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--")) {
                break;
            }
            if (args[i].equals("--output") && i + 1 < args.length) {
                j = args[i + 1].equals("json");
            } else if (args[i].startsWith("--output=")) {
                j = args[i].equals("--output=json");
            }
        }
        json = j;
    }

    /** Sets the format from what was parsed: the subcommand's {@code --output}. */
    static void from(ParseResult parsed) {
        boolean j = false;
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            OptionSpec o = p.matchedOption("--output");
            if (o != null) {
                j = "json".equals(java.util.Objects.toString((Object) o.getValue()));
            }
        }
        json = j;
    }
}
