package dev.cryo.cli;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Pid;
import dev.cryo.core.Cryo;
import dev.cryo.core.config.CryoConfig;
import dev.cryo.core.dump.Dumper;
import picocli.CommandLine.Model.CommandSpec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.cryo.cli.CommandModel.value;

/**
 * {@code cryo graph}: the processes, threads, fds, pipes, sockets and outside peers of an image ({@code -D}) or of a
 * live tree ({@code -t}, through the dry run of {@code cryo check -t}) as a Graphviz graph: DOT, or SVG rendered by
 * Graphviz's {@code dot} when it is installed.
 */
final class GraphCommand extends CryoSubcommand {
    enum Format { dot, svg }

    GraphCommand() {
        super("graph",
                "Draw the process tree of an image (-D DIR) or of a live tree (-t PID) as a Graphviz graph: "
                        + "processes (pid, name) with their children and threads, every fd as an edge to the pipe, "
                        + "socket or file it is on (processes sharing a pipe meet at it), socket peers, and peers "
                        + "outside the tree (dashed, orange). With -t, a dry run as `cryo check -t`: the tree is "
                        + "stopped as briefly as a dump's freeze and left running as before; what a dump would "
                        + "refuse is drawn dashed in red.",
                "",
                "DOT on stdout by default; --format svg renders it with Graphviz's `dot` (installed separately, e.g. "
                        + "apt-get install graphviz); --out FILE writes FILE instead of stdout (FILE.svg: SVG).");
    }

    @Override
    String[] footer() {
        return new String[] {"", "Examples:",
            "  cryo graph -D /var/lib/cryo/img | dot -Tpng > tree.png",
            "  cryo graph -t 1234 --out tree.svg           the live tree, as SVG"};
    }

    @Override
    void addOptions(CommandSpec spec) {
        spec.addOption(value("DIR", Path.class, "Image directory written by `cryo dump`.", "-D", "--images-dir"));
        spec.addOption(value("PID", Integer.class, "Draw the live tree rooted at PID instead (a dry run: nothing is "
                + "written, the tree runs on).", "-t", "--tree"));
        spec.addOption(value("FILE", Path.class, "Write the graph to FILE instead of stdout.", "--out"));
        spec.addOption(value("FORMAT", Format.class, "dot (default, or FILE's extension) or svg (needs Graphviz's "
                + "`dot` on the PATH).", "--format"));
        spec.addMixin(DryRunOptions.MIXIN, DryRunOptions.mixin());
    }

    @Override
    public Integer call() throws CryoException {
        Path imagesDir = option("--images-dir", null);
        Integer tree = option("--tree", null);
        Path out = option("--out", null);
        Format format = option("--format", null);
        if ((imagesDir == null) == (tree == null)) {
            throw usage(imagesDir == null ? "cli/MISSING_OPTION" : "cli/CONFLICTING_OPTIONS",
                    imagesDir == null ? "missing -D/--images-dir DIR or -t/--tree PID"
                            : "-D/--images-dir and -t/--tree exclude each other",
                    "cryo graph -D DIR (an image) or cryo graph -t PID (a live tree)");
        }
        Format f = format != null ? format
                : out != null && out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".svg") ? Format.svg
                : Format.dot;
        CryoConfig config = loadConfig();
        String dot;
        try (Cryo cryo = startEngine(config)) {
            if (imagesDir != null) {
                dot = cryo.graph(path(imagesDir.toString()));
            } else {
                Pid root = Pid.of(positiveInt("tree", "-t/--tree PID", Integer.toString(tree)));
                Map.Entry<String, Dumper.CheckReport> g = cryo.graph(root);
                dot = g.getKey();
                int problems = g.getValue().problems().size();
                if (problems > 0) {
                    spec.commandLine().getErr().println("a dump of this tree would be refused (" + problems
                            + (problems == 1 ? " reason" : " reasons") + ", drawn in red); `cryo check -t " + root
                            + "` lists them with their fixes");
                    spec.commandLine().getErr().flush();
                }
            }
        }
        byte[] bytes = f == Format.svg ? svg(dot) : dot.getBytes(StandardCharsets.UTF_8);
        write(bytes, out);
        return ExitCodes.OK;
    }

    /** Writes {@code bytes} to {@code out}, or to stdout when it is null. */
    private static void write(byte[] bytes, Path out) throws CryoException {
        if (out == null) {
            try {
                System.out.write(bytes);
                System.out.flush();
            } catch (IOException e) {
                throw new CryoException(Category.KERNEL, "cli/OUTPUT", "writing the graph failed: " + e, null, e);
            }
            return;
        }
        try {
            Files.write(out, bytes);
        } catch (IOException e) {
            throw new CryoException(Category.KERNEL, "cli/OUTPUT", "cannot write " + out + ": " + e,
                    "choose a writable path for --out");
        }
    }

    /** @return {@code dot} rendered as SVG by Graphviz's {@code dot -Tsvg} */
    static byte[] svg(String dot) throws CryoException {
        Process p;
        try {
            p = new ProcessBuilder("dot", "-Tsvg").redirectError(ProcessBuilder.Redirect.PIPE).start();
        } catch (IOException e) {
            throw new CryoException(Category.PLUGIN_CONFIG, "cli/NO_GRAPHVIZ",
                    "cannot render SVG: Graphviz's `dot` is not installed (" + e.getMessage() + ")",
                    "install Graphviz (apt-get install graphviz, dnf install graphviz), or use --format dot and "
                            + "render it elsewhere");
        }
        try (OutputStream in = p.getOutputStream()) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Thread errReader = new Thread(() -> copy(p.getErrorStream(), err));
            errReader.start();
            in.write(dot.getBytes(StandardCharsets.UTF_8));
            in.close();
            byte[] svg = p.getInputStream().readAllBytes();
            int status = p.waitFor();
            errReader.join();
            if (status != 0) {
                throw new CryoException(Category.INTERNAL, "cli/GRAPHVIZ_FAILED", "dot -Tsvg exited with status "
                        + status + ": " + err.toString(StandardCharsets.UTF_8).strip(), null);
            }
            return svg;
        } catch (IOException | InterruptedException e) {
            p.destroy();
            throw new CryoException(Category.INTERNAL, "cli/GRAPHVIZ_FAILED", "dot -Tsvg failed: " + e, null, e);
        }
    }

    private static void copy(InputStream from, ByteArrayOutputStream to) {
        try {
            from.transferTo(to);
        } catch (IOException e) {
            // the exit status tells
        }
    }
}
