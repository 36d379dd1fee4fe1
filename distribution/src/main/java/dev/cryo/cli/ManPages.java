package dev.cryo.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Man pages (troff, {@code man(7)} macros) written from picocli's model of the commands: {@code cryo(1)} with the
 * global options and the list of commands, and one {@code cryo-COMMAND(1)} page per subcommand (as git does) with
 * its synopsis, description, options — the plugins' options under a heading per plugin, as in {@code --help} —
 * arguments, exit status and the root's examples. picocli-codegen's {@code ManPageGenerator} writes AsciiDoc, which
 * needs Asciidoctor (a JRuby runtime) to become a man page; the model is simple enough to write troff directly.
 * Used by {@link ShellFiles} at build time.
 */
final class ManPages {
    private ManPages() {
    }

    /** @return the page of {@code cl} (the root or a subcommand) */
    static String page(CommandLine cl, String version) {
        CommandSpec spec = cl.getCommandSpec();
        boolean root = cl.getParent() == null;
        String name = root ? "cryo" : "cryo-" + cl.getCommandName();
        StringBuilder out = new StringBuilder();
        out.append(".\\\" Generated from cryo's command definitions (dev.cryo.cli.ManPages); do not edit.\n");
        out.append(".TH \"").append(name.toUpperCase(java.util.Locale.ROOT)).append("\" \"1\" \"\" \"cryo ")
                .append(version).append("\" \"Cryo Manual\"\n");
        out.append(".SH NAME\n").append(escape(name)).append(" \\- ")
                .append(escape(firstSentence(spec.usageMessage().description()))).append('\n');

        out.append(".SH SYNOPSIS\n.nh\n.ad l\n");
        String synopsis = new CommandLine.Help(spec, CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF))
                .synopsis(0).replaceAll("\\s+", " ").strip();
        String command = root ? "cryo" : "cryo " + cl.getCommandName();
        out.append(".B ").append(escape(command)).append('\n');
        if (synopsis.startsWith(command)) {
            synopsis = synopsis.substring(command.length()).strip();
        }
        if (!synopsis.isEmpty()) {
            out.append(escape(synopsis)).append('\n');
        }
        out.append(".ad\n.hy\n");

        out.append(".SH DESCRIPTION\n");
        paragraphs(out, spec.usageMessage().description());

        if (root) {
            out.append(".SH COMMANDS\n");
            for (Map.Entry<String, CommandLine> e : cl.getSubcommands().entrySet()) {
                out.append(".TP\n.B ").append(escape(e.getKey())).append('\n')
                        .append(escape(firstSentence(e.getValue().getCommandSpec().usageMessage().description())))
                        .append(" See \\fBcryo-").append(escape(e.getKey())).append("\\fR(1).\n");
            }
        }

        List<PositionalParamSpec> positionals = spec.positionalParameters().stream().filter(p -> !p.hidden())
                .toList();
        if (!positionals.isEmpty()) {
            out.append(".SH ARGUMENTS\n");
            for (PositionalParamSpec p : positionals) {
                out.append(".TP\n\\fI").append(escape(p.paramLabel())).append("\\fR\n");
                paragraphs(out, p.description());
            }
        }

        out.append(".SH OPTIONS\n");
        for (OptionSpec o : spec.options()) {
            if (o.group() == null && !o.hidden()) {
                option(out, o);
            }
        }
        for (ArgGroupSpec g : spec.argGroups()) {
            String heading = g.heading() == null ? "" : g.heading().replace("%n", " ").strip();
            heading = heading.endsWith(":") ? heading.substring(0, heading.length() - 1) : heading;
            if (!heading.isEmpty()) {
                out.append(".SS \"").append(escape(heading)).append("\"\n");
            }
            for (OptionSpec o : g.options()) {
                if (!o.hidden()) {
                    option(out, o);
                }
            }
        }

        Map<String, String> codes = spec.usageMessage().exitCodeList();
        if (!codes.isEmpty()) {
            out.append(".SH \"EXIT STATUS\"\n");
            for (Map.Entry<String, String> e : codes.entrySet()) {
                out.append(".TP\n.B ").append(escape(e.getKey().strip())).append('\n').append(escape(e.getValue()))
                        .append('\n');
            }
        }

        String[] footer = (root ? cl : cl.getParent()).getCommandSpec().usageMessage().footer();
        List<String> examples = new ArrayList<>();
        for (String line : footer) {
            if (line.startsWith("  ")) {
                examples.add(line.strip());
            }
        }
        if (!examples.isEmpty()) {
            out.append(".SH EXAMPLES\n.nf\n.RS 4\n");
            for (String ex : examples) {
                out.append(escape(ex)).append('\n');
            }
            out.append(".RE\n.fi\n");
        }

        out.append(".SH FILES\n.TP\n.I <cryo home>/conf/cryo.conf\nOptions, one long option per line without"
                + " \\fB\\-\\-\\fR; then /etc/cryo/cryo.conf, \\fB$CRYO_CONFIG\\fR and \\fB\\-\\-config\\fR"
                + " \\fIFILE\\fR (later wins; the command line wins over all).\n.TP\n.I <cryo home>/plugins/\n"
                + "The plugin jars; \\fBcryo plugins\\fR lists them.\n");
        out.append(".SH \"SEE ALSO\"\n");
        List<String> see = new ArrayList<>();
        if (!root) {
            see.add("\\fBcryo\\fR(1)");
        }
        CommandLine top = root ? cl : cl.getParent();
        for (String sub : top.getSubcommands().keySet()) {
            if (!sub.equals(cl.getCommandName()) || root) {
                see.add("\\fBcryo\\-" + escape(sub) + "\\fR(1)");
            }
        }
        see.add("\\fBcriu\\fR(8)");
        out.append(String.join(", ", see)).append('\n');
        return out.toString();
    }

    private static void option(StringBuilder out, OptionSpec o) {
        out.append(".TP\n");
        List<String> names = new ArrayList<>();
        for (String n : o.names()) {
            names.add("\\fB" + escape(n) + "\\fR");
        }
        out.append(String.join(", ", names));
        boolean flag = o.arity().max() == 0;
        if (!flag) {
            String label = "\\fI" + escape(o.paramLabel()) + "\\fR";
            out.append(o.arity().min() == 0 ? "[=" + label + "]" : "=" + label);
        }
        out.append('\n');
        paragraphs(out, o.description());
    }

    /** Lines of a description; an empty line starts a new paragraph. */
    private static void paragraphs(StringBuilder out, String[] lines) {
        boolean first = true;
        for (String line : lines) {
            String text = line.replace("%n", "\n").strip();
            if (text.isEmpty()) {
                if (!first) {
                    out.append(".PP\n");
                }
                continue;
            }
            for (String l : text.split("\n")) {
                out.append(escape(l.strip())).append('\n');
            }
            first = false;
        }
    }

    private static String firstSentence(String[] description) {
        if (description.length == 0) {
            return "";
        }
        String d = description[0].strip();
        int end = d.indexOf(". ");
        d = end > 0 ? d.substring(0, end) : d;
        return d.endsWith(".") ? d.substring(0, d.length() - 1) : d;
    }

    /**
     * Escapes text for troff: backslashes, hyphens (as {@code \-}, so that options stay searchable and are not
     * hyphenated), and a leading dot or quote that would start a request.
     */
    static String escape(String s) {
        String t = s.replace("\\", "\\e").replace("-", "\\-");
        if (t.startsWith(".") || t.startsWith("'")) {
            t = "\\&" + t;
        }
        return t;
    }
}
