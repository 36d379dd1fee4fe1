package dev.cryo.core.image;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.core.image.proto.Envelope;
import dev.cryo.core.image.proto.FdinfoEntry;
import dev.cryo.core.image.proto.PstreeEntry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code cryo graph}: an image (or the scratch image of a dry run) as a Graphviz DOT graph. Processes (pid, name) with
 * their parent edges and threads; every fd as an edge from its process to the object it is on (a pipe, a socket, a
 * file: one node per object, so two processes sharing a pipe meet at it); socket peers; outside peers (external
 * records, a peer inode no process of the tree holds, a remote address, outside holders of a pipe) drawn dashed in
 * orange; refusals of a dry run (an fd no plugin takes, a reference to outside no plugin accepts) dashed in red.
 *
 * <p>Plugin records are read by field name as in {@link ImageSummary}: an object's identity is its record's
 * {@code inode} or {@code ino}; a peer is {@code peer_ino} (or {@code peer_text}, matched against another object's
 * {@code local_text}); outside holders are {@code outside_holders}. Core names no plugin. One instance per graph.
 */
public final class ImageGraph {
    /** Colours of what the graph marks; also named in the legend. */
    static final String EXTERNAL_COLOR = "darkorange";
    static final String REFUSED_COLOR = "red";
    private static final int MAX_THREADS_SHOWN = 8;

    /**
     * A refusal of a dry run to draw: an fd ({@code toKind} empty) or a reference from the object an fd holds to an
     * object outside the tree.
     *
     * @param pid     the process
     * @param fd      the fd
     * @param target  what the fd is on, or the reference in words
     * @param toKind  the outside object's kind, for a reference
     * @param toId    the outside object's id, for a reference
     * @param code    the refusal's code ({@code pipe/EXTERNAL_PIPE})
     */
    public record Refusal(int pid, int fd, String target, Optional<String> toKind, long toId, String code) {
    }

    private record Node(String id, String label, String attrs) {
    }

    private record Edge(String from, String to, String label, String attrs) {
    }

    private final ImageDir dir;
    private final PluginRecords records;
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<Edge> edges = new ArrayList<>();
    /** pid/fd to the node of the object it is on. */
    private final Map<String, String> fdObject = new HashMap<>();
    /** An object's id number (inode) to its node, for external records that name only the number. */
    private final Map<Long, String> byId = new HashMap<>();
    /** {@code local_text} of an object to its node: a peer address that is in the tree. */
    private final Map<String, String> byLocal = new HashMap<>();
    /** The record that describes each object node (its object table's, else its first fd's), described last. */
    private final Map<String, Described> described = new LinkedHashMap<>();

    private record Described(String kind, DynamicMessage rec) {
    }

    private ImageGraph(ImageDir dir, List<Descriptor> recordTypes) {
        this.dir = dir;
        this.records = new PluginRecords(recordTypes);
    }

    /**
     * @param recordTypes the enabled plugins' record descriptors
     * @param refusals    a dry run's refusals to mark (empty for an image)
     * @param title       the graph's label
     * @return the graph in DOT
     */
    public static String dot(ImageDir dir, List<Descriptor> recordTypes, List<Refusal> refusals, String title)
            throws CryoException {
        ImageGraph g = new ImageGraph(dir, recordTypes);
        List<PstreeEntry> tree = dir.readAll(ImageFileNames.PSTREE, FileType.PSTREE, PstreeEntry.parser());
        g.processes(tree);
        for (PstreeEntry p : tree) {
            g.fds(p.getPid());
        }
        if (dir.exists(ImageFileNames.EXTERNAL)) { // first: the peers they describe are the most precise
            for (Envelope e : dir.readAll(ImageFileNames.EXTERNAL, FileType.EXTERNAL, Envelope.parser())) {
                g.external(e);
            }
        }
        for (String file : dir.files()) {
            if (dir.fileType(file) == FileType.OBJECTS) {
                for (Envelope e : dir.readAll(file, FileType.OBJECTS, Envelope.parser())) {
                    g.object(e);
                }
            }
        }
        g.described.forEach((node, d) -> ImageSummary.text(d.rec(), "local_text")
                .ifPresent(l -> g.byLocal.put(l, node)));
        g.described.forEach(g::describe);
        refusals.forEach(g::refusal);
        return g.render(title);
    }

    private void processes(List<PstreeEntry> tree) {
        java.util.Set<Integer> pids = new java.util.HashSet<>();
        tree.forEach(p -> pids.add(p.getPid()));
        for (PstreeEntry p : tree) {
            String id = "p" + p.getPid();
            node(id, p.getPid() + "\n" + p.getComm() + (p.getZombie() ? "\n(zombie)" : ""),
                    p.getZombie() ? "shape=box, style=dashed, color=gray"
                            : "shape=box, style=\"filled,bold\", fillcolor=lightblue");
            if (pids.contains(p.getPpid())) {
                edges.add(new Edge("p" + p.getPpid(), id, "child", "style=bold"));
            }
            List<Integer> others = p.getThreadsList().stream().filter(t -> t != p.getPid()).toList();
            for (int i = 0; i < others.size() && i < MAX_THREADS_SHOWN; i++) {
                String t = "t" + others.get(i);
                node(t, "thread " + others.get(i), "shape=ellipse, fontsize=9");
                edges.add(new Edge(id, t, "", "style=dotted, arrowhead=none"));
            }
            if (others.size() > MAX_THREADS_SHOWN) {
                String t = "t" + p.getPid() + "_more";
                node(t, "+" + (others.size() - MAX_THREADS_SHOWN) + " threads", "shape=ellipse, fontsize=9");
                edges.add(new Edge(id, t, "", "style=dotted, arrowhead=none"));
            }
        }
    }

    private void fds(int pid) throws CryoException {
        String file = "fdinfo-" + pid + ".img";
        if (!dir.exists(file)) {
            return;
        }
        for (FdinfoEntry fd : dir.readAll(file, FileType.FDINFO, FdinfoEntry.parser())) {
            String object;
            String label = "fd " + fd.getFd();
            if (fd.hasSameAs()) {
                object = fdObject.get(fd.getSameAs().getPid() + "/" + fd.getSameAs().getFd());
                if (object == null) {
                    continue;
                }
            } else {
                Optional<DynamicMessage> rec = records.decode(fd.getRecord());
                Optional<Long> id = rec.flatMap(ImageGraph::identity);
                String target = rec.map(ImageSummary::target).orElse("(no plugin to read it)");
                // a file's inode number is unique on its device only
                Optional<Long> dev = rec.flatMap(r -> ImageSummary.number(r, "dev")).filter(d -> d != 0);
                object = "o:" + fd.getKind() + ":" + dev.map(d -> d + ".").orElse("")
                        + id.map(String::valueOf).orElse(target);
                node(object, fd.getKind() + "\n" + shorten(target), "shape=box, style=rounded");
                String objectNode = object;
                id.ifPresent(n -> byId.putIfAbsent(n, objectNode));
                rec.ifPresent(r -> described.putIfAbsent(objectNode, new Described(fd.getKind(), r)));
                label += rec.flatMap(r -> enumName(r, "access")).map(a -> " (" + a + ")").orElse("");
            }
            fdObject.put(pid + "/" + fd.getFd(), object);
            edges.add(new Edge("p" + pid, object, label, ""));
        }
    }

    /** An object table record: it describes its object (an object no fd is on, e.g. a pending connection: not drawn). */
    private void object(Envelope e) {
        records.decode(e.getRecord()).ifPresent(rec -> identity(rec).ifPresent(id -> {
            String node = "o:" + e.getKind() + ":" + id;
            if (nodes.containsKey(node)) {
                described.put(node, new Described(e.getKind(), rec));
            }
        }));
    }

    /** An object's label from its record, its peer in the tree or outside, its outside holders. */
    private void describe(String node, Described d) {
        DynamicMessage rec = d.rec();
        Optional<String> kindName = ImageSummary.text(rec, "kind_name", "type_name");
        Optional<String> state = ImageSummary.text(rec, "state_name");
        Optional<String> local = ImageSummary.text(rec, "local_text", "name_text", "path");
        Optional<Long> id = identity(rec);
        if (kindName.isPresent() || state.isPresent()) {
            String label = d.kind() + kindName.map(k -> " " + k).orElse("") + "\n"
                    + local.map(ImageGraph::shorten).orElse(id.map(n -> "ino " + n).orElse(""))
                    + state.map(st -> "\n" + st).orElse("");
            nodes.put(node, new Node(node, label, nodes.get(node).attrs()));
        }
        long peer = ImageSummary.number(rec, "peer_ino").orElse(0L);
        if (peer != 0) {
            String peerNode = "o:" + d.kind() + ":" + peer;
            if (nodes.containsKey(peerNode)) {
                if (node.compareTo(peerNode) < 0) {
                    edges.add(new Edge(node, peerNode, "peer", "dir=none, style=bold"));
                }
            } else {
                outside(node, "outside peer\nino " + peer + ImageSummary.text(rec, "peer_name_text")
                        .map(n -> "\n" + shorten(n)).orElse(""), "peer");
            }
        }
        ImageSummary.text(rec, "peer_text").ifPresent(remote -> {
            String in = byLocal.get(remote);
            if (in == null) {
                outside(node, "remote\n" + remote, "peer");
            } else if (node.compareTo(in) < 0) {
                edges.add(new Edge(node, in, "peer", "dir=none, style=bold"));
            }
        });
        ImageSummary.text(rec, "outside_holders").filter(h -> !h.equals("nobody"))
                .ifPresent(h -> outside(node, "held outside\n" + shorten(h), "other end"));
    }

    /** An external peer record: the object of the tree it belongs to, to the peer outside. */
    private void external(Envelope e) {
        Optional<DynamicMessage> decoded = records.decode(e.getRecord());
        if (decoded.isEmpty()) {
            return;
        }
        DynamicMessage rec = decoded.get();
        String node = identity(rec).map(byId::get).orElse(null);
        if (node == null) {
            return;
        }
        String owner = ImageSummary.number(rec, "peer_owner_pid").filter(n -> n != 0)
                .map(n -> "pid " + n + ImageSummary.text(rec, "peer_owner_comm").map(c -> " " + c).orElse(""))
                .orElse("");
        String what = ImageSummary.text(rec, "peer_name_text", "outside_holders", "reason").orElse("");
        outside(node, "external (" + e.getKind() + ")\n" + shorten(what) + (owner.isEmpty() ? "" : "\n" + owner),
                e.getKind());
    }

    private void refusal(Refusal r) {
        String color = "color=" + REFUSED_COLOR + ", fontcolor=" + REFUSED_COLOR;
        if (r.toKind().isEmpty()) {
            String node = "x:" + r.pid() + ":" + r.fd();
            node(node, "refused\n" + shorten(r.target()) + "\n[" + r.code() + "]",
                    "shape=box, style=\"dashed,bold\", " + color);
            edges.add(new Edge("p" + r.pid(), node, "fd " + r.fd(), "style=dashed, " + color));
            return;
        }
        String from = fdObject.getOrDefault(r.pid() + "/" + r.fd(), "p" + r.pid());
        String node = "x:" + r.toKind().get() + ":" + r.toId();
        node(node, "refused: outside\n" + r.toKind().get() + " " + r.toId() + "\n[" + r.code() + "]",
                "shape=box, style=\"dashed,bold\", " + color);
        edges.add(new Edge(from, node, shorten(r.target()), "style=dashed, " + color));
    }

    /** An outside peer of node {@code from}, dashed in orange; the first description of it wins. */
    private void outside(String from, String label, String edgeLabel) {
        String node = "ext:" + from; // one outside peer per object: an external record and its holders agree
        String color = "color=" + EXTERNAL_COLOR + ", fontcolor=" + EXTERNAL_COLOR;
        if (nodes.containsKey(node)) {
            return;
        }
        node(node, label, "shape=box, style=dashed, " + color);
        edges.add(new Edge(from, node, edgeLabel, "style=dashed, " + color));
    }

    private void node(String id, String label, String attrs) {
        nodes.putIfAbsent(id, new Node(id, label, attrs));
    }

    private String render(String title) {
        StringBuilder sb = new StringBuilder("digraph \"cryo\" {\n");
        sb.append("  graph [rankdir=LR, fontname=\"Helvetica\", label=").append(quote(title))
                .append(", labelloc=t];\n");
        sb.append("  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n");
        for (Node n : nodes.values()) {
            sb.append("  ").append(quote(n.id())).append(" [label=").append(quote(n.label()))
                    .append(n.attrs().isEmpty() ? "" : ", " + n.attrs()).append("];\n");
        }
        for (Edge e : edges) {
            sb.append("  ").append(quote(e.from())).append(" -> ").append(quote(e.to())).append(" [label=")
                    .append(quote(e.label())).append(e.attrs().isEmpty() ? "" : ", " + e.attrs()).append("];\n");
        }
        return sb.append("}\n").toString();
    }

    /** @return a DOT string literal: backslashes and quotes escaped, newlines as {@code \n} line breaks */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> sb.append(c < 0x20 ? '?' : c);
            }
        }
        return sb.append('"').toString();
    }

    private static Optional<Long> identity(Message rec) {
        return ImageSummary.number(rec, "inode").or(() -> ImageSummary.number(rec, "ino")).filter(n -> n != 0);
    }

    /** @return {@code r}, {@code w} or {@code rw} from an access enum ({@code PIPE_ACCESS_READ}...) */
    private static Optional<String> enumName(Message m, String field) {
        var f = m.getDescriptorForType().findFieldByName(field);
        if (f == null || f.isRepeated() || !(m.getField(f) instanceof com.google.protobuf.Descriptors.EnumValueDescriptor v)
                || v.getNumber() == 0) {
            return Optional.empty();
        }
        String n = v.getName();
        return Optional.of(n.endsWith("READ_WRITE") ? "rw" : n.endsWith("READ") ? "r" : n.endsWith("WRITE") ? "w"
                : n.toLowerCase(java.util.Locale.ROOT));
    }

    private static boolean boolTrue(Message m, String field) {
        var f = m.getDescriptorForType().findFieldByName(field);
        return f != null && !f.isRepeated() && Boolean.TRUE.equals(m.getField(f));
    }

    private static String shorten(String s) {
        return s.length() > 48 ? "..." + s.substring(s.length() - 45) : s;
    }
}
