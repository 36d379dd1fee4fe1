package dev.cryo.core.image;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.core.PipelineStats;
import dev.cryo.core.image.proto.CoreEntry;
import dev.cryo.core.image.proto.Envelope;
import dev.cryo.core.image.proto.FdinfoEntry;
import dev.cryo.core.image.proto.InventoryEntry;
import dev.cryo.core.image.proto.PluginRef;
import dev.cryo.core.image.proto.PstreeEntry;
import dev.cryo.core.image.proto.SpecialVmaEntry;
import dev.cryo.core.image.proto.StatsEntry;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The default view of {@code cryo show}: what a person wants from an image at a glance. The image (cryo and kernel
 * version, when, root, plugins), the statistics of its dump and restore, the process tree (pid, ppid, pgid, sid,
 * threads, state, name), then per process a table like {@code /proc/PID/maps} (hex addresses, permissions, size,
 * name) and its fds (number, kind, target). Core's own records give the tree and the layout of every mapping; a
 * plugin's records are read generically by field name — a mapping record's {@code start}, {@code prot},
 * {@code shared}; an fd record's first {@code path}/{@code name} text or its {@code ino} — so core names no plugin,
 * and a record without such fields still shows its kind. {@code --json} (the {@link ImageRenderer}) has everything.
 *
 * <p>Called once per {@code cryo show}, on the caller's thread.
 */
public final class ImageSummary {
    /** Rows of a process's mappings table at most: above the kernel's default vm.max_map_count (65530). */
    static final int MAX_MAPPING_ROWS = 70_000;

    private final ImageDir dir;
    private final PluginRecords records;

    private ImageSummary(ImageDir dir, List<Descriptor> recordTypes) {
        this.dir = dir;
        this.records = new PluginRecords(recordTypes);
    }

    /**
     * @param recordTypes the plugins' record descriptors (their {@code recordTypes()})
     * @param pids        the processes to show; empty: all
     */
    public static void render(ImageDir dir, List<Descriptor> recordTypes, Set<Integer> pids, Appendable out)
            throws CryoException {
        try {
            new ImageSummary(dir, recordTypes).renderAll(pids, out);
        } catch (IOException e) {
            throw new CryoException(CryoException.Category.INTERNAL, "core/SHOW_OUTPUT",
                    "writing the summary of " + dir.path() + " failed: " + e.getMessage(), null, e);
        }
    }

    private void renderAll(Set<Integer> pids, Appendable out) throws CryoException, IOException {
        InventoryEntry inv = dir.inventory();
        List<String> plugins = new ArrayList<>();
        for (PluginRef p : inv.getPluginsList()) {
            plugins.add(p.getId() + " " + p.getVersion());
        }
        out.append("image ").append(dir.path().toString()).append(": root pid ")
                .append(Integer.toString(inv.getRootPid())).append(", dumped ")
                .append(Instant.ofEpochMilli(inv.getCreatedUnixMs()).toString()).append(" by cryo ")
                .append(inv.getCryoVersion()).append(" on kernel ").append(inv.getKernel()).append('\n');
        out.append("plugins: ").append(plugins.isEmpty() ? "-" : String.join(", ", plugins)).append('\n');
        for (String stats : List.of(ImageFileNames.STATS_DUMP, ImageFileNames.STATS_RESTORE)) {
            Optional<StatsEntry> s = dir.stats(stats);
            if (s.isPresent()) {
                out.append(PipelineStats.describe(s.get())).append('\n');
            }
        }

        List<PstreeEntry> tree = dir.readAll(ImageFileNames.PSTREE, FileType.PSTREE, PstreeEntry.parser());
        out.append('\n');
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"PID", "PPID", "PGID", "SID", "THREADS", "STATE", "NAME"});
        Map<Integer, CoreEntry> cores = new HashMap<>();
        for (PstreeEntry p : tree) {
            CoreEntry core = null;
            String coreFile = "core-" + p.getPid() + ".img";
            if (!p.getZombie() && dir.exists(coreFile)) {
                core = dir.readAll(coreFile, FileType.CORE, CoreEntry.parser()).stream().findFirst().orElse(null);
                if (core != null) {
                    cores.put(p.getPid(), core);
                }
            }
            String state = p.getZombie() ? "zombie (status " + p.getExitStatus() + ")"
                    : core != null && core.getStopSigno() != 0 ? "stopped (signal " + core.getStopSigno() + ")"
                    : "running";
            rows.add(new String[] {Integer.toString(p.getPid()), Integer.toString(p.getPpid()),
                Integer.toString(p.getPgid()), Integer.toString(p.getSid()), Integer.toString(p.getThreadsCount()),
                state, p.getComm()});
        }
        out.append(Tables.align(rows));

        for (PstreeEntry p : tree) {
            if (p.getZombie() || !pids.isEmpty() && !pids.contains(p.getPid())) {
                continue;
            }
            out.append('\n').append("pid ").append(Integer.toString(p.getPid())).append(" \"").append(p.getComm())
                    .append("\"");
            CoreEntry core = cores.get(p.getPid());
            if (core != null) {
                out.append(": cwd ").append(core.getCwd()).append(", exe ").append(core.getMm().getExe())
                        .append(", uid ").append(Integer.toString(core.getCreds().getUid()))
                        .append(", threads ").append(Integer.toString(core.getThreadsCount()));
            }
            out.append('\n');
            mappings(p.getPid(), core, out);
            out.append('\n');
            if (p.getFdTableOf() != 0) {
                out.append("  fds: the fd table of pid ").append(Integer.toString(p.getFdTableOf()))
                        .append(" (shared, CLONE_FILES)\n");
            } else {
                fds(p.getPid(), out);
            }
        }
    }

    private void mappings(int pid, CoreEntry core, Appendable out) throws CryoException, IOException {
        Map<Long, DynamicMessage> byStart = new HashMap<>();
        String mm = "mm-" + pid + ".img";
        if (dir.exists(mm)) {
            for (Envelope e : dir.readAll(mm, FileType.MM, Envelope.parser())) {
                decode(e.getRecord()).ifPresent(m -> number(m, "start").ifPresent(s -> byStart.put(s, m)));
            }
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"START", "END", "PERM", "SIZE", "SAVED", "NAME"});
        List<SpecialVmaEntry> layout = core == null ? List.of() : core.getMm().getLayoutList();
        for (SpecialVmaEntry v : layout.subList(0, Math.min(layout.size(), MAX_MAPPING_ROWS))) {
            DynamicMessage rec = byStart.get(v.getStart());
            String perm = "----";
            String saved = "-";
            String name = v.getName();
            if (rec != null) {
                long prot = number(rec, "prot").orElse(0L);
                boolean shared = bool(rec, "shared");
                perm = ((prot & 1) != 0 ? "r" : "-") + ((prot & 2) != 0 ? "w" : "-") + ((prot & 4) != 0 ? "x" : "-")
                        + (shared ? "s" : "p");
                long bytes = savedBytes(rec);
                saved = bytes == 0 ? "-" : size(bytes);
                if (name.isEmpty()) {
                    name = text(rec, "name", "path").orElse("");
                }
            } else if (!name.isEmpty() && name.startsWith("[v")) {
                perm = "(kernel)";
            }
            rows.add(new String[] {String.format("%016x", v.getStart()), String.format("%016x", v.getEnd()), perm,
                size(v.getEnd() - v.getStart()), saved, name});
        }
        out.append("  mappings (").append(Integer.toString(layout.size())).append(")\n");
        out.append(indent(Tables.align(rows)));
        if (layout.size() > MAX_MAPPING_ROWS) {
            // more than a process can have (vm.max_map_count is 65530 by default): a damaged image, most likely;
            // the table stays bounded, whatever the record holds
            out.append("  ... ").append(Integer.toString(layout.size() - MAX_MAPPING_ROWS))
                    .append(" more mappings not shown (`cryo show --json` lists them all)\n");
        }
    }

    private void fds(int pid, Appendable out) throws CryoException, IOException {
        String file = "fdinfo-" + pid + ".img";
        List<FdinfoEntry> fds = dir.exists(file) ? dir.readAll(file, FileType.FDINFO, FdinfoEntry.parser()) : List.of();
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"FD", "KIND", "TARGET"});
        for (FdinfoEntry fd : fds) {
            String kind;
            String target;
            if (fd.hasSameAs()) {
                kind = "(shared)";
                target = "same open file as " + (fd.getSameAs().getPid() == pid ? "" : "pid " + fd.getSameAs().getPid()
                        + " ") + "fd " + fd.getSameAs().getFd();
            } else {
                kind = fd.getKind();
                Optional<DynamicMessage> rec = decode(fd.getRecord());
                target = rec.map(ImageSummary::target).orElse("(" + fd.getRecord().getTypeUrl()
                        .replaceFirst(".*/", "") + ": no descriptor, is its plugin enabled?)");
            }
            rows.add(new String[] {Integer.toString(fd.getFd()) + (fd.getCloexec() ? " (cloexec)" : ""), kind, target});
        }
        out.append("  fds (").append(Integer.toString(fds.size())).append(")\n");
        out.append(indent(Tables.align(rows)));
    }

    /** @return what an fd record is on: its path or name, else {@code ino N}, else its fields in short */
    static String target(Message rec) {
        Optional<String> t = text(rec, "path", "name_text", "peer_name_text", "name", "address", "local");
        if (t.isPresent()) {
            return t.get();
        }
        Optional<Long> ino = number(rec, "ino").or(() -> number(rec, "inode"));
        if (ino.isPresent()) {
            return "ino " + ino.get();
        }
        String s = rec.toString().replaceAll("\\s+", " ").strip();
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }

    private Optional<DynamicMessage> decode(Any any) {
        return records.decode(any);
    }

    static Optional<Long> number(Message m, String field) {
        FieldDescriptor f = m.getDescriptorForType().findFieldByName(field);
        if (f == null || f.isRepeated() || !(m.getField(f) instanceof Number n)) {
            return Optional.empty();
        }
        return Optional.of(n.longValue());
    }

    private static boolean bool(Message m, String field) {
        FieldDescriptor f = m.getDescriptorForType().findFieldByName(field);
        return f != null && !f.isRepeated() && Boolean.TRUE.equals(m.getField(f));
    }

    static Optional<String> text(Message m, String... fields) {
        for (String field : fields) {
            FieldDescriptor f = m.getDescriptorForType().findFieldByName(field);
            if (f != null && !f.isRepeated() && m.getField(f) instanceof String s && !s.isEmpty()) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** @return the bytes of a mapping record's saved page runs ({@code pages}: messages with a {@code length}) */
    private static long savedBytes(Message rec) {
        FieldDescriptor f = rec.getDescriptorForType().findFieldByName("pages");
        if (f == null || !f.isRepeated() || f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
            return 0;
        }
        long sum = 0;
        for (int i = 0; i < rec.getRepeatedFieldCount(f); i++) {
            sum += number((Message) rec.getRepeatedField(f, i), "length").orElse(0L);
        }
        return sum;
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return (bytes >> 10) + " KiB";
        }
        if (bytes < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    }

    private static String indent(String table) {
        StringBuilder sb = new StringBuilder();
        table.lines().forEach(l -> sb.append("  ").append(l).append('\n'));
        return sb.toString();
    }

    /** Aligned text tables, two spaces between columns, the last column not padded (also `cryo plugins`'). */
    public static final class Tables {
        private Tables() {
        }

        /** @return the rows (the first one a header, if any) as lines of aligned columns, each ending in a newline */
        public static String align(List<String[]> rows) {
            int[] width = new int[rows.get(0).length];
            for (String[] row : rows) {
                for (int i = 0; i < row.length; i++) {
                    width[i] = Math.max(width[i], row[i].length());
                }
            }
            StringBuilder sb = new StringBuilder();
            for (String[] row : rows) {
                for (int i = 0; i < row.length; i++) {
                    sb.append(i == row.length - 1 ? row[i] : String.format("%-" + (width[i] + 2) + "s", row[i]));
                }
                sb.append('\n');
            }
            return sb.toString();
        }
    }
}
