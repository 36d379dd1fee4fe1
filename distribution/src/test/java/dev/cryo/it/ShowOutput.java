package dev.cryo.it;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parsed output of {@code cryo show DIR}, and every lookup the tests make in it: all knowledge of record and
 * field names lives in this class, so it is the one place to adjust when the image schema moves.
 *
 * <p>Format: per image file a header {@code # <file> (<type>, N records)}, then the records as protobuf JsonFormat
 * JSON objects (lowerCamelCase names, 64-bit integers as strings, default values omitted). Plugin records inside
 * an {@code Envelope}/{@code FdinfoEntry} appear as an {@code Any} under {@code record} (with {@code @type});
 * {@link #unwrap(Struct)} reaches them whichever way the show command prints them.
 */
public final class ShowOutput {
    private static final Pattern HEADER = Pattern.compile("^# (\\S+) \\(([^,]+), (\\d+) records?\\)\\s*$");

    /** One image file's section. */
    public record Section(String file, String type, int declaredCount, List<Struct> records) {
    }

    private final Map<String, Section> sections;
    private final String raw;

    private ShowOutput(Map<String, Section> sections, String raw) {
        this.sections = sections;
        this.raw = raw;
    }

    /** Parses the whole output; fails on a record that is not valid JSON or a count that does not match. */
    public static ShowOutput parse(String text) {
        Map<String, Section> sections = new LinkedHashMap<>();
        String file = null;
        String type = null;
        int count = 0;
        StringBuilder body = new StringBuilder();
        for (String line : (text + "\n").split("\n", -1)) {
            Matcher m = HEADER.matcher(line);
            if (m.matches()) {
                if (file != null) {
                    sections.put(file, section(file, type, count, body.toString()));
                }
                file = m.group(1);
                type = m.group(2).trim();
                count = Integer.parseInt(m.group(3));
                body.setLength(0);
            } else if (file != null) {
                body.append(line).append('\n');
            }
        }
        if (file != null) {
            sections.put(file, section(file, type, count, body.toString()));
        }
        return new ShowOutput(sections, text);
    }

    private static Section section(String file, String type, int count, String body) {
        List<Struct> records = new ArrayList<>();
        for (String json : topLevelJson(body)) {
            Value.Builder v = Value.newBuilder();
            try {
                JsonFormat.parser().merge(json, v);
            } catch (InvalidProtocolBufferException e) {
                throw new AssertionError("cryo show: record of " + file + " is not JSON: " + e.getMessage() + "\n" + json);
            }
            if (v.hasStructValue()) {
                records.add(v.getStructValue());
            } else if (v.hasListValue()) {
                for (Value e : v.getListValue().getValuesList()) {
                    records.add(e.getStructValue());
                }
            }
        }
        if (records.size() != count) {
            throw new AssertionError("cryo show: header of " + file + " says " + count + " records, found " + records.size());
        }
        return new Section(file, type, count, records);
    }

    /** Splits text into its top-level JSON values ({...} or [...]), ignoring anything between them. */
    static List<String> topLevelJson(String s) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        int start = -1;
        boolean inString = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
                continue;
            }
            if (c == '"' && depth > 0) {
                inString = true;
            } else if (c == '{' || c == '[') {
                if (depth++ == 0) {
                    start = i;
                }
            } else if ((c == '}' || c == ']') && depth > 0) {
                if (--depth == 0) {
                    out.add(s.substring(start, i + 1));
                }
            }
        }
        return out;
    }

    public String raw() {
        return raw;
    }

    /** @return the image files listed, in output order */
    public List<String> files() {
        return List.copyOf(sections.keySet());
    }

    public Optional<Section> section(String file) {
        return Optional.ofNullable(sections.get(file));
    }

    /** @return the records of {@code file}; fails if the file is not in the output */
    public List<Struct> records(String file) {
        Section s = sections.get(file);
        if (s == null) {
            throw new AssertionError("cryo show lists no " + file + " (files: " + files() + ")");
        }
        return s.records();
    }

    // ---- memory: mm-<pid>.img, cryo.plugin.memory.VmaEntry ----

    /** @return the VMA records of {@code pid}, unwrapped from their envelopes */
    public List<Struct> vmas(long pid) {
        return records("mm-" + pid + ".img").stream().map(ShowOutput::unwrap).toList();
    }

    public static long vmaStart(Struct vma) {
        return num(vma, "start");
    }

    public static long vmaEnd(Struct vma) {
        return num(vma, "end");
    }

    /** A saved run of pages: absolute address, length in bytes, offset into the pages file's data. */
    public record PageRun(long start, long length, long pagesOffset) {
    }

    /**
     * @return the saved page runs of a VMA; a run start below the VMA's start is taken as relative to the VMA
     */
    public static List<PageRun> pageRuns(Struct vma) {
        long base = vmaStart(vma);
        List<PageRun> runs = new ArrayList<>();
        for (Value v : list(vma, "pages")) {
            Struct r = v.getStructValue();
            long start = num(r, "start");
            if (Long.compareUnsigned(start, base) < 0) {
                start += base;
            }
            runs.add(new PageRun(start, num(r, "length"), num(r, "pagesOffset")));
        }
        return runs;
    }

    // ---- fds: fdinfo-<pid>.img, cryo.core.FdinfoEntry wrapping the kind's record ----

    /** @return the fd entries of {@code pid} (FdinfoEntry: fd, cloexec, kind, record) */
    public List<Struct> fds(long pid) {
        return records("fdinfo-" + pid + ".img");
    }

    public static long fdNumber(Struct fdinfo) {
        return num(fdinfo, "fd");
    }

    public static String fdKind(Struct fdinfo) {
        return str(fdinfo, "kind");
    }

    /** @return the kind's record of an fd entry (for regular files: path, flags, pos, charDevice, size...) */
    public static Struct fdRecord(Struct fdinfo) {
        return unwrap(fdinfo);
    }

    /** @return the fd entry with number {@code fd}; fails if absent */
    public Struct fd(long pid, long fd) {
        return fds(pid).stream().filter(f -> fdNumber(f) == fd).findFirst()
                .orElseThrow(() -> new AssertionError("no fd " + fd + " in fdinfo-" + pid + ".img: " + fds(pid)));
    }

    /** @return the fd entry whose record's path ends with {@code suffix}; fails if absent */
    public Struct fdByPath(long pid, String suffix) {
        return fds(pid).stream().filter(f -> str(fdRecord(f), "path").endsWith(suffix)).findFirst()
                .orElseThrow(() -> new AssertionError("no fd with path *" + suffix + " in fdinfo-" + pid + ".img: "
                        + fds(pid)));
    }

    public static String filePath(Struct fdinfo) {
        return str(fdRecord(fdinfo), "path");
    }

    public static long fileFlags(Struct fdinfo) {
        return num(fdRecord(fdinfo), "flags");
    }

    public static long filePos(Struct fdinfo) {
        return num(fdRecord(fdinfo), "pos");
    }

    public static boolean fileIsCharDevice(Struct fdinfo) {
        return bool(fdRecord(fdinfo), "charDevice");
    }

    // ---- core: core-<pid>.img, cryo.core.CoreEntry ----

    /** @return the CoreEntry of {@code pid} */
    public Struct core(long pid) {
        List<Struct> r = records("core-" + pid + ".img");
        if (r.size() != 1) {
            throw new AssertionError("core-" + pid + ".img has " + r.size() + " records, expected 1");
        }
        return r.get(0);
    }

    /** @return the sigaction record for {@code signo}, if saved */
    public Optional<Struct> sigaction(long pid, int signo) {
        return list(core(pid), "sigactions").stream().map(Value::getStructValue).filter(s -> num(s, "signo") == signo)
                .findFirst();
    }

    public static long sigactionHandler(Struct sigaction) {
        return num(sigaction, "handler");
    }

    /** @return the itimer record {@code which} (ITIMER_REAL 0), if saved */
    public Optional<Struct> itimer(long pid, int which) {
        return list(core(pid), "itimers").stream().map(Value::getStructValue).filter(s -> num(s, "which") == which)
                .findFirst();
    }

    /** @return the interval of an itimer record in microseconds */
    public static long itimerIntervalMicros(Struct itimer) {
        return num(itimer, "intervalSec") * 1_000_000L + num(itimer, "intervalUsec");
    }

    /** @return the rlimit record named {@code name} (e.g. RLIMIT_NOFILE) or with resource number {@code resource} */
    public Optional<Struct> rlimit(long pid, String name, int resource) {
        return list(core(pid), "rlimits").stream().map(Value::getStructValue)
                .filter(s -> name.equals(str(s, "name")) || (has(s, "resource") && num(s, "resource") == resource))
                .findFirst();
    }

    /** @return the soft limit of an rlimit record */
    public static long rlimitCur(Struct rlimit) {
        return num(rlimit, "cur");
    }

    public long umask(long pid) {
        return num(core(pid), "umask");
    }

    public String cwd(long pid) {
        return str(core(pid), "cwd");
    }

    public String comm(long pid) {
        return str(core(pid), "comm");
    }

    // ---- generic accessors (JsonFormat: absent = default) ----

    /**
     * @return the plugin record inside an envelope-like record ({@code record} holding an object), else the record
     */
    public static Struct unwrap(Struct s) {
        Value r = s.getFieldsMap().get("record");
        return r != null && r.hasStructValue() ? r.getStructValue() : s;
    }

    public static boolean has(Struct s, String field) {
        return s.getFieldsMap().containsKey(field);
    }

    /** @return a numeric field: JSON number or (for 64-bit fields) a decimal string; absent = 0 */
    /**
     * {@code cryo show} prints the .proto field names (snake_case, like CRIU's crit); tests name fields in
     * lowerCamelCase. Looks up either spelling.
     */
    static Value field(Struct s, String field) {
        Value v = s.getFieldsMap().get(field);
        if (v == null) {
            v = s.getFieldsMap().get(field.replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT));
        }
        return v;
    }

    public static long num(Struct s, String field) {
        Value v = field(s, field);
        if (v == null || v.hasNullValue()) {
            return 0;
        }
        if (v.hasStringValue()) {
            String t = v.getStringValue();
            return t.startsWith("-") ? Long.parseLong(t) : Long.parseUnsignedLong(t);
        }
        if (v.hasNumberValue()) {
            return (long) v.getNumberValue();
        }
        throw new AssertionError("field " + field + " is not a number: " + v);
    }

    /** @return a string field; absent = "" */
    public static String str(Struct s, String field) {
        Value v = field(s, field);
        return v == null ? "" : v.hasStringValue() ? v.getStringValue() : v.toString();
    }

    /**
     * @return a field as text, whichever spelling {@code cryo show} used ({@code snake} or its lowerCamelCase) and
     *         whether a number, string or bool: numbers as whole numbers; absent = ""
     */
    public static String text(Struct s, String snake) {
        String camel = Pattern.compile("_([a-z])").matcher(snake).replaceAll(m -> m.group(1).toUpperCase());
        Value v = s.getFieldsOrDefault(snake, s.getFieldsOrDefault(camel, null));
        if (v == null) {
            return "";
        }
        return switch (v.getKindCase()) {
            case NUMBER_VALUE -> Long.toString((long) v.getNumberValue());
            case STRING_VALUE -> v.getStringValue();
            case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
            default -> v.toString();
        };
    }

    /** @return a bool field; absent = false */
    public static boolean bool(Struct s, String field) {
        Value v = field(s, field);
        return v != null && v.hasBoolValue() && v.getBoolValue();
    }

    /** @return a repeated field; absent = empty */
    public static List<Value> list(Struct s, String field) {
        Value v = field(s, field);
        return v == null || !v.hasListValue() ? List.of() : v.getListValue().getValuesList();
    }

    /** @return a compact JSON rendering for assertion messages */
    public static String json(Struct s) {
        try {
            return JsonFormat.printer().omittingInsignificantWhitespace().print(s);
        } catch (InvalidProtocolBufferException e) {
            return s.toString();
        }
    }
}
