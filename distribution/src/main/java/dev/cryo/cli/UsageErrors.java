package dev.cryo.cli;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.config.ConfigKeys;
import picocli.CommandLine;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.OverwrittenOptionException;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Command-line mistakes in the style of every other error: one line saying what is wrong, a {@code Fix:} line (the
 * closest option, the command an option belongs to, the value expected), the stable code, then the command's short
 * usage line — never picocli's raw message followed by the whole help. Called by picocli once, on the main thread,
 * when parsing fails; {@link ExitCodes} prints usage errors raised later (a missing {@code -t}) the same way.
 *
 * <p>Codes: {@code cli/UNKNOWN_OPTION}, {@code cli/UNKNOWN_COMMAND}, {@code cli/UNEXPECTED_ARGUMENT},
 * {@code cli/MISSING_VALUE}, {@code cli/MISSING_OPTION}, {@code cli/MISSING_COMMAND}, {@code cli/BAD_VALUE},
 * {@code cli/REPEATED_OPTION}, {@code cli/USAGE} (anything else).
 */
final class UsageErrors implements CommandLine.IParameterExceptionHandler {
    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        OutputFormat.prescan(args);
        ErrorOutput.print(cmd, translate(ex), false);
        return Category.USAGE.exitCode();
    }

    /** @return the mistake as a {@link CryoException} of category USAGE, with its fix */
    static CryoException translate(ParameterException ex) {
        CommandLine cmd = ex.getCommandLine();
        String name = cmd.getCommandSpec().qualifiedName();
        if (ex instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            return unmatched(cmd, u.getUnmatched().get(0));
        }
        if (ex instanceof MissingParameterException m) {
            List<ArgSpec> missing = m.getMissing() == null ? List.of() : m.getMissing();
            if (!missing.isEmpty() && missing.get(0).isOption() && ex.getMessage().contains("for option")) {
                OptionSpec o = (OptionSpec) missing.get(0);
                return usage("cli/MISSING_VALUE", "option " + names(o) + " needs a value",
                        "give it as " + o.shortestName() + " " + o.paramLabel() + helpHint(cmd));
            }
            String what = missing.isEmpty() ? "an argument" : String.join(", ", missing.stream().map(UsageErrors::label)
                    .toList());
            return usage("cli/MISSING_OPTION", "missing " + what, "give " + what + helpHint(cmd));
        }
        if (ex instanceof OverwrittenOptionException o) {
            String option = o.getOverwritten() instanceof OptionSpec os ? names(os) : label(o.getOverwritten());
            return usage("cli/REPEATED_OPTION", option + " given more than once",
                    "give " + option + " once");
        }
        if (ex.getMessage() != null && ex.getMessage().equals(CryoCli.MISSING_SUBCOMMAND)) {
            return usage("cli/MISSING_COMMAND", "no command given",
                    "give one of " + String.join(", ", commands(cmd)) + " (`cryo --help` explains them)");
        }
        ArgSpec arg = ex.getArgSpec();
        String value = ex.getValue();
        if (arg != null && value != null) {
            String option = arg instanceof OptionSpec os ? names(os) : label(arg);
            return usage("cli/BAD_VALUE", "invalid value for " + option + ": '" + value + "'"
                    + expected(arg), "give " + example(arg) + helpHint(cmd));
        }
        String msg = ex.getMessage() == null ? "invalid command line" : ex.getMessage();
        return usage("cli/USAGE", Character.toLowerCase(msg.charAt(0)) + msg.substring(1),
                "see `" + name + " --help`");
    }

    private static CryoException unmatched(CommandLine cmd, String arg) {
        CommandSpec spec = cmd.getCommandSpec();
        String name = spec.qualifiedName();
        if (arg.startsWith("-") && arg.length() > 1 && !arg.matches("-\\d+")) {
            String option = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            Optional<String> owner = commandHaving(cmd, option);
            Optional<String> near = closest(option, optionNames(spec));
            String fix = owner.map(o -> o + ", not of `" + name + "`")
                    .orElseGet(() -> near.map(c -> "did you mean " + c + "? (`" + name + " --help` lists the options)")
                            .orElse("`" + name + " --help` lists the options"));
            return usage("cli/UNKNOWN_OPTION", "unknown option " + option, fix);
        }
        if (!spec.subcommands().isEmpty()) {
            List<String> commands = commands(cmd);
            String fix = closest(arg, commands).map(c -> "did you mean `" + name + " " + c + "`? (the commands: "
                    + String.join(", ", commands) + ")").orElse("give one of the commands: " + String.join(", ", commands));
            return usage("cli/UNKNOWN_COMMAND", "unknown command '" + arg + "'", fix);
        }
        return usage("cli/UNEXPECTED_ARGUMENT", "unexpected argument '" + arg + "'",
                (spec.positionalParameters().isEmpty() ? "`" + name + "` takes options only" : "give one "
                        + label(spec.positionalParameters().get(0))) + helpHint(cmd));
    }

    private static CryoException usage(String code, String message, String fix) {
        return new CryoException(Category.USAGE, code, message, fix);
    }

    private static String helpHint(CommandLine cmd) {
        return " (`" + cmd.getCommandSpec().qualifiedName() + " --help` explains it)";
    }

    /** @return {@code -t/--tree} */
    static String names(OptionSpec o) {
        return String.join("/", o.names());
    }

    private static String label(ArgSpec a) {
        return a instanceof OptionSpec o ? names(o) + " " + o.paramLabel() : a.paramLabel();
    }

    private static String expected(ArgSpec arg) {
        Class<?> type = arg.type();
        if (type == Integer.class || type == int.class) {
            return "PID".equals(arg.paramLabel()) ? " is not a pid (a positive whole number)" : " is not a whole number";
        }
        return "";
    }

    private static String example(ArgSpec arg) {
        String option = arg instanceof OptionSpec os ? os.shortestName() + " " : "";
        if ("PID".equals(arg.paramLabel())) {
            return "a pid, e.g. " + option + "1234";
        }
        return option + arg.paramLabel();
    }

    private static List<String> commands(CommandLine cmd) {
        return cmd.getSubcommands().keySet().stream().toList();
    }

    private static List<String> optionNames(CommandSpec spec) {
        List<String> names = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            names.addAll(List.of(o.names()));
        }
        return names;
    }

    /** @return {@code -R/--leave-running is an option of `cryo dump`} when another subcommand takes {@code option} */
    private static Optional<String> commandHaving(CommandLine cmd, String option) {
        // the command line of a run is built with only the subcommand it names (CryoCli.commandLine(String[])):
        // look the option up in a complete one
        for (CommandLine sub : CryoCli.commandLine().getSubcommands().values()) {
            if (!sub.getCommandName().equals(cmd.getCommandName()) && sub.getCommandSpec().options().stream().anyMatch(o -> List.of(o.names()).contains(option))) {
                OptionSpec o = sub.getCommandSpec().options().stream()
                        .filter(x -> List.of(x.names()).contains(option)).findFirst().orElseThrow();
                return Optional.of(names(o) + " is an option of `" + sub.getCommandSpec().qualifiedName() + "`");
            }
        }
        return Optional.empty();
    }

    /** @return the candidate nearest to {@code word} by edit distance, when it is near enough to be a typo */
    static Optional<String> closest(String word, List<String> candidates) {
        String w = word.toLowerCase(Locale.ROOT);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            String lc = c.toLowerCase(Locale.ROOT);
            int d = lc.startsWith(w) && w.length() >= 4 ? 1 : ConfigKeys.distance(w, lc);
            if (d < bestDistance || d == bestDistance && best != null && c.length() > best.length()) {
                best = c;
                bestDistance = d;
            }
        }
        int allowed = Math.max(2, w.replaceFirst("^-+", "").length() / 3);
        return bestDistance <= allowed && best != null && !(w.length() <= 2 && bestDistance > 1)
                ? Optional.of(best) : Optional.empty();
    }

    /** @return {@code Usage: cryo dump [OPTIONS]  (cryo dump --help for all)} */
    static String usageLine(CommandLine cmd) {
        String synopsis = cmd.getHelp().abbreviatedSynopsis().strip();
        return "Usage: " + synopsis + "   (`" + cmd.getCommandSpec().qualifiedName() + " --help` for more)";
    }

    static void printUsageLine(CommandLine cmd, PrintWriter err) {
        err.println(usageLine(cmd));
    }
}
