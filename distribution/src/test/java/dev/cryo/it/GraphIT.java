package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code cryo graph}: the DOT of an image ({@code -D}) of a pipeline of three processes and of two processes sharing
 * socketpairs, and of a live tree ({@code -t}) holding four things a dump refuses, parsed here (processes, children,
 * fds to the pipes and sockets they share, socket peers, outside peers in orange, refusals in red) and rendered by
 * Graphviz's {@code dot -Tsvg} without a warning; {@code --format svg} and {@code --out FILE.svg}. The live tree runs
 * on unharmed (it checks itself after). The pipeline's DOT is also compared with {@code golden/graph-pipe-chain.dot}
 * (pids and pipe inodes normalized, see {@link Golden}).
 */
class GraphIT extends WithTestBed {
    @Test
    void imageOfAPipelineShowsProcessesAndThePipesTheyShare() throws Exception {
        Workload w = bed.workloads().start("pipe_tree", "chain", "3");
        w.awaitNewTicks(3);
        Path image = bed.newImageDir();
        bed.cryo().dump(w.pid(), image, "-R").assertOk();
        List<Long> tree = new ArrayList<>(List.of(w.pid()));
        tree.addAll(TestBed.descendantsOf(w.pid()));
        assertEquals(3, tree.size(), "pipe_tree chain 3 is three processes: " + tree);

        CryoResult r = bed.cryo().run("graph", "-D", image.toString()).assertOk();
        Dot g = Dot.parse(r.stdout());
        for (long pid : tree) {
            assertTrue(g.label("p" + pid).startsWith(pid + "\npipe_tree"), "process " + pid + ":\n" + r.stdout());
        }
        assertEquals(2, g.edges("child").size(), r.stdout());
        List<String> pipes = g.nodes.keySet().stream().filter(n -> n.startsWith("o:pipe:")).toList();
        assertEquals(2, pipes.size(), "two pipes:\n" + r.stdout());
        for (String pipe : pipes) {
            List<Edge> ends = g.edgesTo(pipe);
            assertEquals(1, ends.stream().filter(e -> e.label().endsWith("(w)")).count(), pipe + ": " + ends);
            assertEquals(1, ends.stream().filter(e -> e.label().endsWith("(r)")).count(), pipe + ": " + ends);
            assertFalse(ends.get(0).from().equals(ends.get(1).from()), "a pipe between two processes: " + ends);
        }
        assertTrue(g.marked("red").isEmpty() && g.marked("darkorange").isEmpty(), r.stdout());
        assertTrue(render(r.stdout()).contains("pipe_tree"));
        Golden.assertMatches("graph-pipe-chain.dot", Golden.normalize(r.stdout(), tree,
                java.util.Map.of(bed.root().toString(), "<testdir>")));

        // SVG through Graphviz: on stdout with --format svg, into a file named .svg with --out
        String svg = bed.cryo().run("graph", "-D", image.toString(), "--format", "svg").assertOk().stdout();
        assertTrue(svg.contains("<svg") && svg.contains(Long.toString(w.pid())), svg);
        Path file = bed.root().resolve("tree.svg");
        bed.cryo().run("graph", "-D", image.toString(), "--out", file.toString()).assertOk();
        assertTrue(Files.readString(file).contains("<svg"));
        w.kill();
    }

    @Test
    void imageOfProcessesSharingSocketpairsJoinsThePeers() throws Exception {
        Workload w = bed.workloads().start("unix_sockets", "tree");
        w.awaitNewTicks(2);
        Path image = bed.newImageDir();
        bed.cryo().dump(w.pid(), image, "-R").assertOk();
        CryoResult r = bed.cryo().run("graph", "-D", image.toString()).assertOk();
        Dot g = Dot.parse(r.stdout());
        List<Edge> peers = g.edges("peer");
        assertTrue(peers.size() >= 2, "the stream and the dgram socketpair:\n" + r.stdout());
        for (Edge p : peers) {
            assertTrue(p.from().startsWith("o:unix-socket:") && p.to().startsWith("o:unix-socket:"), p.toString());
            assertFalse(g.edgesTo(p.from()).isEmpty(), "an fd is on " + p.from());
            assertFalse(g.edgesTo(p.to()).isEmpty(), "an fd is on " + p.to());
        }
        render(r.stdout());
        w.kill();
    }

    @Test
    void liveTreeMarksWhatADumpWouldRefuseAndHarmsNothing() throws Exception {
        try (BlockedTree t = BlockedTree.start(bed)) {
            Workload w = t.w();
            long child = t.child();
            long helper = t.helper();
            CryoResult r = bed.cryo().run("graph", "-t", Long.toString(w.pid())).assertOk();
            assertTrue(r.stderr().contains("would be refused (4 reasons, drawn in red)"), r.describe());
            Dot g = Dot.parse(r.stdout());
            assertTrue(g.label("p" + child).startsWith(child + "\ncheck_blockers"), r.stdout());
            assertEquals(1, g.edges("child").size(), r.stdout());
            List<String> red = g.marked("red");
            for (String code : List.of("[regular-file/GHOST_TOO_BIG]", "[pipe/EXTERNAL_PIPE]",
                    "[inet-socket/ESTABLISHED]", "[core/NAMESPACE_FD]")) {
                assertEquals(1, red.stream().filter(n -> g.label(n).contains(code)).count(), code + ":\n"
                        + r.stdout());
            }
            assertTrue(g.edgesTo("x:" + child + ":9").stream().anyMatch(e -> e.from().equals("p" + child)
                    && e.label().equals("fd 9")), "the child's namespace fd:\n" + r.stdout());
            assertTrue(g.edgesTo("x:" + w.pid() + ":7").stream().anyMatch(e -> e.label().equals("fd 7")),
                    "the root's deleted file:\n" + r.stdout());
            String pipe = "o:pipe:" + w.ready("pipe");
            assertTrue(g.nodes.containsKey(pipe), r.stdout());
            assertTrue(g.marked("darkorange").stream().anyMatch(n -> g.label(n).contains("pid " + helper)),
                    "the pipe's outside holder:\n" + r.stdout());
            render(r.stdout());

            // harmless: the tree runs on with every resource
            w.awaitNewTicks(3);
            w.assertVerifyPass();
            assertEquals('v', t.nextByte(), "the byte the workload sent after the graph");

            // with the options that take the pipe and the connection over: outside peers, not refusals
            CryoResult o = bed.cryo().run("graph", "-t", Long.toString(w.pid()), "--external",
                    "pipe:[" + w.ready("pipe") + "]", "--tcp-established").assertOk();
            Dot g2 = Dot.parse(o.stdout());
            assertEquals(2, g2.marked("red").size(), "the deleted file and the namespace fd:\n" + o.stdout());
            List<String> orange = g2.marked("darkorange");
            assertTrue(orange.stream().anyMatch(n -> g2.label(n).contains("remote\n127.0.0.1:"
                    + t.server().getLocalPort())), "the TCP peer:\n" + o.stdout());
            assertTrue(orange.stream().anyMatch(n -> g2.label(n).startsWith("external (")
                    && g2.label(n).contains("pid " + helper)), "the external pipe:\n" + o.stdout());
            render(o.stdout());
            w.awaitNewTicks(2);
            w.assertVerifyPass();
        }
    }

    /** @return the SVG Graphviz's {@code dot} renders from {@code dot}, asserting it exits 0 without a warning */
    static String render(String dot) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("dot", "-Tsvg").redirectInput(ProcessBuilder.Redirect.PIPE).start();
        p.getOutputStream().write(dot.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String svg = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "dot -Tsvg failed: " + err + "\n" + dot);
        assertEquals("", err.strip(), "dot -Tsvg warned:\n" + dot);
        assertTrue(svg.contains("<svg"), svg);
        return svg;
    }

    record Edge(String from, String to, String label, Map<String, String> attrs) {
    }

    /** The nodes and edges of the DOT cryo graph writes: one statement a line, attributes {@code key=value}. */
    record Dot(Map<String, Map<String, String>> nodes, List<Edge> edges) {
        private static final Pattern NODE = Pattern.compile("^\\s*\"((?:[^\"\\\\]|\\\\.)*)\" \\[(.*)\\];$");
        private static final Pattern EDGE = Pattern.compile(
                "^\\s*\"((?:[^\"\\\\]|\\\\.)*)\" -> \"((?:[^\"\\\\]|\\\\.)*)\" \\[(.*)\\];$");
        private static final Pattern ATTR = Pattern.compile("(\\w+)=(\"(?:[^\"\\\\]|\\\\.)*\"|[^,\\s]+)");

        static Dot parse(String dot) {
            assertTrue(dot.startsWith("digraph ") && dot.strip().endsWith("}"), dot);
            Map<String, Map<String, String>> nodes = new LinkedHashMap<>();
            List<Edge> edges = new ArrayList<>();
            for (String line : dot.lines().toList()) {
                Matcher e = EDGE.matcher(line);
                Matcher n = NODE.matcher(line);
                if (e.matches()) {
                    Map<String, String> a = attrs(e.group(3));
                    edges.add(new Edge(unquote(e.group(1)), unquote(e.group(2)), a.getOrDefault("label", ""), a));
                } else if (n.matches()) {
                    nodes.put(unquote(n.group(1)), attrs(n.group(2)));
                }
            }
            for (Edge e : edges) {
                assertTrue(nodes.containsKey(e.from()) && nodes.containsKey(e.to()), "edge to no node: " + e);
            }
            return new Dot(nodes, edges);
        }

        String label(String node) {
            Map<String, String> a = nodes.get(node);
            assertTrue(a != null, "no node " + node + " in " + nodes.keySet());
            return a.getOrDefault("label", "");
        }

        List<Edge> edges(String label) {
            return edges.stream().filter(e -> e.label().equals(label)).toList();
        }

        List<Edge> edgesTo(String node) {
            return edges.stream().filter(e -> e.to().equals(node)).toList();
        }

        List<String> marked(String color) {
            return nodes.entrySet().stream().filter(e -> color.equals(e.getValue().get("color")))
                    .map(Map.Entry::getKey).toList();
        }

        private static Map<String, String> attrs(String list) {
            Map<String, String> m = new LinkedHashMap<>();
            Matcher a = ATTR.matcher(list);
            while (a.find()) {
                m.put(a.group(1), a.group(2).startsWith("\"") ? unquote(a.group(2).substring(1,
                        a.group(2).length() - 1)) : a.group(2));
            }
            return m;
        }

        private static String unquote(String s) {
            return s.replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
        }
    }
}
