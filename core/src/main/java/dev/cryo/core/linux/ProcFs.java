package dev.cryo.core.linux;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Mapping;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Parsers of {@code /proc/PID/*}. Every method reads the file fresh. */
public final class ProcFs {
    private static final Path PROC = Path.of("/proc");

    private ProcFs() {
    }

    public static Path dir(int pid) {
        return PROC.resolve(Integer.toString(pid));
    }

    static String read(Path p) throws CryoException {
        try {
            return readText(p);
        } catch (NoSuchFileException e) {
            throw new CryoException(Category.NO_SUCH_PROCESS, "core/NO_SUCH_PROCESS", "cannot read " + p + ": no such process");
        } catch (IOException e) {
            throw new CryoException(Category.KERNEL, "core/PROC_READ", "cannot read " + p + ": " + e.getMessage(),
                    null, e);
        }
    }

    /**
     * Reads a /proc or /sys file completely. Not {@code Files.readString}: it trusts the reported size, and for
     * sysctl files (size 4096, content shorter) returns a truncated value.
     */
    public static String readText(Path p) throws IOException {
        try (var in = Files.newInputStream(p)) {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    public static boolean exists(int pid) {
        return Files.isDirectory(dir(pid));
    }

    /** @return the process name, {@code comm} */
    public static String comm(int pid) {
        try {
            return readText(dir(pid).resolve("comm")).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    /** {@code /proc/PID/stat} fields, numbered as in proc(5) (field 1 = pid). */
    public record Stat(int pid, String comm, char state, int ppid, int pgrp, int session, long flags,
                       long startTime, long[] fields) {
        /** @return field {@code n} (1-based, as in proc(5)) as an unsigned number */
        public long field(int n) {
            return fields[n - 1];
        }

        /** PF_KTHREAD (0x00200000) in the flags field. */
        public boolean kernelThread() {
            return (flags & 0x00200000L) != 0;
        }
    }

    public static Stat stat(int pid) throws CryoException {
        return parseStat(read(dir(pid).resolve("stat")));
    }

    static Stat parseStat(String s) {
        int open = s.indexOf('(');
        int close = s.lastIndexOf(')');
        String comm = s.substring(open + 1, close);
        String[] rest = s.substring(close + 2).trim().split(" ");
        long[] f = new long[rest.length + 2];
        f[0] = Long.parseLong(s.substring(0, open).trim());
        for (int i = 1; i < rest.length; i++) {
            f[i + 2] = parseUnsigned(rest[i]);
        }
        return new Stat((int) f[0], comm, rest[0].charAt(0), (int) f[3], (int) f[4], (int) f[5], f[8], f[21], f);
    }

    private static long parseUnsigned(String v) {
        return v.startsWith("-") ? Long.parseLong(v) : Long.parseUnsignedLong(v);
    }

    /** {@code /proc/PID/status} as key → value (trimmed). */
    public static Map<String, String> status(int pid) throws CryoException {
        return parseKeyValues(read(dir(pid).resolve("status")));
    }

    /** {@code /proc/PID/task/TID/status}: per-thread fields (credentials, capabilities, seccomp) as key → value. */
    public static Map<String, String> taskStatus(int pid, int tid) throws CryoException {
        return parseKeyValues(read(taskDir(pid, tid).resolve("status")));
    }

    /** @return {@code /proc/PID/task/TID} */
    public static Path taskDir(int pid, int tid) {
        return dir(pid).resolve("task").resolve(Integer.toString(tid));
    }

    /** Reads a small /proc file, trimmed. */
    public static String readTrimmed(Path p) throws CryoException {
        return read(p).strip();
    }

    /** @return the hexadecimal status field {@code key} (CapEff, SigPnd...) as a number; 0 when absent */
    public static long hexField(Map<String, String> status, String key) {
        String v = status.get(key);
        return v == null || v.isEmpty() ? 0 : Long.parseUnsignedLong(v, 16);
    }

    static Map<String, String> parseKeyValues(String text) {
        Map<String, String> m = new HashMap<>();
        for (String line : text.split("\n")) {
            int c = line.indexOf(':');
            if (c > 0) {
                m.put(line.substring(0, c).trim(), line.substring(c + 1).trim());
            }
        }
        return m;
    }

    /** @return thread ids of the process, the leader first */
    public static List<Integer> threads(int pid) throws CryoException {
        List<Integer> out;
        try {
            out = numberedEntries(dir(pid).resolve("task"));
        } catch (IOException e) {
            throw new CryoException(Category.NO_SUCH_PROCESS, "core/NO_SUCH_PROCESS", "cannot list threads of pid " + pid
                    + ": " + e.getMessage());
        }
        out.remove(Integer.valueOf(pid));
        out.add(0, pid);
        return out;
    }

    /** @return pids of the children of every thread of the process */
    public static List<Integer> children(int pid) throws CryoException {
        List<Integer> out = new ArrayList<>();
        for (int tid : threads(pid)) {
            Path p = dir(pid).resolve("task").resolve(Integer.toString(tid)).resolve("children");
            String text;
            try {
                text = readText(p);
            } catch (IOException e) {
                continue; // thread exited meanwhile
            }
            for (String c : text.trim().split("\\s+")) {
                if (!c.isEmpty()) {
                    out.add(Integer.parseInt(c));
                }
            }
        }
        return out;
    }

    /**
     * Parses {@code /proc/PID/smaps}: each mapping as {@code maps} shows it (smaps's header lines are maps's lines)
     * with its {@code VmFlags}, the KiB it holds in memory or swap and its kernel page size ({@link Mapping}). One
     * read: the kernel walks the page tables once, and {@code maps} is not read at all (issue 13: the memory plugin
     * read smaps again for the usage, 45-60 ms of kernel time for 10,000 mappings each time).
     */
    public static List<Mapping> maps(int pid) throws CryoException {
        return parseSmaps(read(dir(pid).resolve("smaps")));
    }

    /** Maps only, without smaps flags (cheap). */
    public static List<Mapping> mapsOnly(int pid) throws CryoException {
        return parseMaps(read(dir(pid).resolve("maps")));
    }

    /**
     * Parses {@code /proc/PID/maps} line by line without regular expressions: a process may have tens of thousands of
     * mappings (one {@code split("\\s+")} per line compiled a pattern each time).
     */
    static List<Mapping> parseMaps(String text) {
        List<Mapping> out = new ArrayList<>();
        int n = text.length();
        for (int line = 0; line < n; ) {
            int end = text.indexOf('\n', line);
            if (end < 0) {
                end = n;
            }
            if (skipSpaces(text, line, end) < end) {
                out.add(parseMapsLine(text, line, end));
            }
            line = end + 1;
        }
        return out;
    }

    /**
     * Parses {@code /proc/PID/smaps} (see {@link #maps}): a header line (a maps line) starts each mapping; of the
     * lines after it, {@code Rss}, {@code Swap}, {@code Private_Hugetlb}, {@code Shared_Hugetlb} (hugetlb pages are not
     * in Rss), {@code KernelPageSize} and {@code VmFlags} are kept.
     */
    static List<Mapping> parseSmaps(String text) {
        List<Mapping> out = new ArrayList<>();
        Map<String, Set<String>> flagSets = new HashMap<>(); // most mappings have one of a few flag sets
        Mapping header = null;
        long usageKiB = 0;
        long pageSize = 0;
        Set<String> flags = Set.of();
        int n = text.length();
        for (int line = 0; line < n; ) {
            int end = text.indexOf('\n', line);
            if (end < 0) {
                end = n;
            }
            if (end > line) {
                char c = text.charAt(line);
                if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
                    if (header != null) {
                        out.add(withFigures(header, flags, usageKiB, pageSize));
                    }
                    header = parseMapsLine(text, line, end);
                    usageKiB = 0;
                    pageSize = 0;
                    flags = Set.of();
                } else if (header != null) {
                    // by first letter: of a mapping's ~25 lines, most start with none of these five, and a
                    // switch costs one dispatch where a chain of startsWith cost six calls per line (the parse runs
                    // in the frozen window, mostly interpreted: it was the first cost of a small dump's, issue 13)
                    switch (c) {
                        case 'R' -> {
                            if (text.startsWith("Rss:", line)) {
                                usageKiB += kiloBytes(text, line, end);
                            }
                        }
                        case 'S' -> {
                            if (text.startsWith("Swap:", line) || text.startsWith("Shared_Hugetlb:", line)) {
                                usageKiB += kiloBytes(text, line, end);
                            }
                        }
                        case 'P' -> {
                            if (text.startsWith("Private_Hugetlb:", line)) {
                                usageKiB += kiloBytes(text, line, end);
                            }
                        }
                        case 'K' -> {
                            if (text.startsWith("KernelPageSize:", line)) {
                                pageSize = kiloBytes(text, line, end) << 10;
                            }
                        }
                        case 'V' -> {
                            if (text.startsWith("VmFlags:", line)) {
                                String set = text.substring(line + 8, end).trim();
                                flags = flagSets.get(set);
                                if (flags == null) {
                                    flags = flagSet(set);
                                    flagSets.put(set, flags);
                                }
                            }
                        }
                        default -> {
                            // Size, MMUPageSize, Anonymous, LazyFree, Locked, THPeligible...: not kept
                        }
                    }
                }
            }
            line = end + 1;
        }
        if (header != null) {
            out.add(withFigures(header, flags, usageKiB, pageSize));
        }
        return out;
    }

    private static Mapping withFigures(Mapping m, Set<String> flags, long usageKiB, long pageSize) {
        return new Mapping(m.start(), m.end(), m.prot(), m.shared(), m.offset(), m.dev(), m.inode(), m.name(), flags,
                usageKiB, pageSize);
    }

    /** @return the number of a {@code Name:   1234 kB} line between {@code from} and {@code end} */
    private static long kiloBytes(String text, int from, int end) {
        int i = skipSpaces(text, text.indexOf(':', from) + 1, end);
        int e = i;
        while (e < end && text.charAt(e) >= '0' && text.charAt(e) <= '9') {
            e++;
        }
        return e > i ? Long.parseLong(text, i, e, 10) : 0;
    }

    /** Parses one line of maps (or a header line of smaps): {@code start-end perms offset dev inode [name]}. */
    private static Mapping parseMapsLine(String text, int line, int end) {
        int i = skipSpaces(text, line, end);
        int dash = text.indexOf('-', i);
        int sp = text.indexOf(' ', dash);
        long start = Long.parseUnsignedLong(text, i, dash, 16);
        long stop = Long.parseUnsignedLong(text, dash + 1, sp, 16);
        int p = skipSpaces(text, sp, end);
        char r = text.charAt(p), w = text.charAt(p + 1), x = text.charAt(p + 2), shared = text.charAt(p + 3);
        int prot = (r == 'r' ? 1 : 0) | (w == 'w' ? 2 : 0) | (x == 'x' ? 4 : 0);
        int o = skipSpaces(text, p + 4, end);
        int oe = nextSpace(text, o, end);
        long offset = Long.parseUnsignedLong(text, o, oe, 16);
        int d = skipSpaces(text, oe, end);
        int de = nextSpace(text, d, end);
        String dev = text.substring(d, de);
        int in = skipSpaces(text, de, end);
        int ie = nextSpace(text, in, end);
        long inode = Long.parseLong(text, in, ie, 10);
        int nm = skipSpaces(text, ie, end);
        String name = nm < end ? text.substring(nm, end) : "";
        return new Mapping(start, stop, prot, shared == 's', offset, dev, inode, name, Set.of());
    }

    private static int skipSpaces(String s, int i, int end) {
        while (i < end && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
            i++;
        }
        return i;
    }

    private static int nextSpace(String s, int i, int end) {
        while (i < end && s.charAt(i) != ' ' && s.charAt(i) != '\t') {
            i++;
        }
        return i;
    }

    private static Set<String> flagSet(String flags) {
        Set<String> set = new HashSet<>();
        for (int i = 0; i < flags.length(); ) {
            int e = flags.indexOf(' ', i);
            if (e < 0) {
                e = flags.length();
            }
            if (e > i) {
                set.add(flags.substring(i, e));
            }
            i = e + 1;
        }
        return Set.copyOf(set);
    }

    /** {@code /proc/PID/fdinfo/N} as key → value. */
    public static Map<String, String> fdinfo(int pid, int fd) throws CryoException {
        return parseKeyValues(read(dir(pid).resolve("fdinfo").resolve(Integer.toString(fd))));
    }

    /** @return the open fd numbers of the process, ascending */
    public static List<Integer> fds(int pid) throws CryoException {
        try {
            return numberedEntries(dir(pid).resolve("fd"));
        } catch (IOException e) {
            throw new CryoException(Category.KERNEL, "core/PROC_READ", "cannot list fds of pid " + pid + ": " + e);
        }
    }

    /**
     * @return the entries of a {@code /proc} directory of numbers ({@code fd}, {@code task}), ascending. Read as names,
     *     no Path per entry and no stream of lambdas: a process may hold tens of thousands of fds, and both are listed
     *     while a tree is frozen (issue 13)
     */
    private static List<Integer> numberedEntries(Path dir) throws IOException {
        List<Integer> out = new ArrayList<>();
        String[] names = dir.toFile().list();
        if (names != null) {
            for (String name : names) {
                out.add(Integer.parseInt(name));
            }
        } else {
            try (var s = Files.newDirectoryStream(dir)) { // File.list failed: again, for the error's cause
                for (Path p : s) {
                    out.add(Integer.parseInt(p.getFileName().toString()));
                }
            } catch (java.nio.file.DirectoryIteratorException e) {
                throw e.getCause();
            }
        }
        out.sort(null);
        return out;
    }

    /**
     * @return the process's anonymous memory in bytes ({@code Anonymous:} of {@code /proc/PID/smaps_rollup}): an
     *         estimate of the page data a dump saves; 0 when unreadable
     */
    public static long anonymousBytes(int pid) {
        try {
            for (String line : Files.readAllLines(dir(pid).resolve("smaps_rollup"))) {
                if (line.startsWith("Anonymous:")) {
                    return Long.parseLong(line.substring(10).replace("kB", "").trim()) << 10;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // an estimate only
        }
        return 0;
    }

    /** @return what fd {@code fd} of {@code pid} is on ({@code /proc/PID/fd/N}'s link); empty when it is gone */
    public static java.util.Optional<String> fdLink(int pid, int fd) {
        try {
            return java.util.Optional.of(Files.readSymbolicLink(dir(pid).resolve("fd").resolve(Integer.toString(fd)))
                    .toString());
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }

    public static String readLink(Path p) throws CryoException {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException e) {
            throw new CryoException(Category.KERNEL, "core/PROC_READ", "cannot read link " + p + ": " + e);
        }
    }

    public static byte[] readBytes(Path p) throws CryoException {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new CryoException(Category.KERNEL, "core/PROC_READ", "cannot read " + p + ": " + e);
        }
    }
}
