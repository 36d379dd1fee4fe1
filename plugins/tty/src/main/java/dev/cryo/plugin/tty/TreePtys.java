package dev.cryo.plugin.tty;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pseudo-terminals of a frozen tree, read from {@code /proc} once every task is frozen (the SPI does not tell a
 * handler which processes form the tree: the tree is the root the lifecycle event names and its descendants, from
 * {@code /proc/PID/task/TID/children}). For each process: its fds on a master ({@code /dev/ptmx}, index from fdinfo
 * {@code tty-index:}) or a slave ({@code /dev/pts/N}), its session and its controlling terminal ({@code tty_nr} of
 * {@code /proc/PID/stat}: unix98 slaves have majors 136-143).
 */
final class TreePtys {
    static final Pattern SLAVE = Pattern.compile("/dev/pts/([0-9]+)");
    private static final Pattern TTY_INDEX = Pattern.compile("(?m)^tty-index:\\s*([0-9]+)\\s*$");
    static final int PTS_MAJOR = 136;
    static final int PTS_MAJORS = 8;

    /** One fd of a process on one side of a pty. */
    record Holder(int pid, String comm, int fd) {
        @Override
        public String toString() {
            return "pid " + pid + " \"" + comm + "\" fd " + fd;
        }
    }

    /** What {@code /proc/PID/stat} says of one process of the tree. */
    record Proc(int pid, String comm, int ppid, int session, int pgrp, int ctty) {
        /** @return the pty index of the controlling terminal, or -1 when it is not a unix98 slave */
        int cttyIndex() {
            int major = (ctty >>> 8) & 0xfff;
            int minor = (ctty & 0xff) | ((ctty >>> 12) & 0xfff00);
            return major >= PTS_MAJOR && major < PTS_MAJOR + PTS_MAJORS ? (major - PTS_MAJOR) * 256 + minor : -1;
        }
    }

    final Map<Integer, Proc> procs = new TreeMap<>();
    final Map<Integer, List<Holder>> masters = new TreeMap<>();
    final Map<Integer, List<Holder>> slaves = new TreeMap<>();

    static boolean isMasterLink(String link) {
        return link.equals("/dev/ptmx") || link.equals("/dev/pts/ptmx");
    }

    /** @return N of {@code /dev/pts/N}, or empty */
    static OptionalInt slaveIndex(String link) {
        if (!link.startsWith("/dev/pts/")) {
            return OptionalInt.empty(); // most fds: asked of every fd of a dump, the regex only for a pty's
        }
        Matcher m = SLAVE.matcher(link);
        return m.matches() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
    }

    /** Reads the tree under {@code root} from {@code proc} (normally {@code /proc}). */
    static TreePtys scan(Path proc, int root) {
        TreePtys t = new TreePtys();
        Set<Integer> pids = new LinkedHashSet<>();
        Deque<Integer> todo = new ArrayDeque<>(List.of(root));
        while (!todo.isEmpty()) {
            int pid = todo.poll();
            if (!pids.add(pid)) {
                continue;
            }
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(proc.resolve(pid + "/task"))) {
                for (Path task : tasks) {
                    for (String c : read(task.resolve("children")).trim().split("\\s+")) {
                        if (!c.isEmpty()) {
                            todo.add(Integer.parseInt(c));
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                // gone: core refuses or reports it
            }
        }
        for (int pid : pids) {
            Optional<Proc> p = stat(proc, pid);
            if (p.isEmpty()) {
                continue;
            }
            t.procs.put(pid, p.get());
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve(pid + "/fd"))) {
                for (Path fd : fds) {
                    Optional<String> target = readLink(fd);
                    if (target.isEmpty()) {
                        continue; // closed meanwhile
                    }
                    String link = target.get();
                    int n = Integer.parseInt(fd.getFileName().toString());
                    Holder h = new Holder(pid, p.get().comm(), n);
                    if (isMasterLink(link)) {
                        masterIndex(proc.resolve(pid + "/fdinfo/" + n))
                                .ifPresent(i -> t.masters.computeIfAbsent(i, k -> new ArrayList<>()).add(h));
                    } else {
                        slaveIndex(link).ifPresent(i -> t.slaves.computeIfAbsent(i, k -> new ArrayList<>()).add(h));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // gone
            }
        }
        t.masters.values().forEach(l -> l.sort(java.util.Comparator.comparingInt(Holder::pid)
                .thenComparingInt(Holder::fd)));
        t.slaves.values().forEach(l -> l.sort(java.util.Comparator.comparingInt(Holder::pid)
                .thenComparingInt(Holder::fd)));
        return t;
    }

    /** @return the index in an fdinfo file of a master ({@code tty-index:}), empty when it has none */
    static OptionalInt masterIndex(Path fdinfo) {
        return parseTtyIndex(read(fdinfo));
    }

    static OptionalInt parseTtyIndex(String fdinfo) {
        Matcher m = TTY_INDEX.matcher(fdinfo);
        return m.find() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
    }

    /** {@code /proc/PID/stat}: comm in parentheses, then state, ppid, pgrp, session, tty_nr. */
    static Optional<Proc> stat(Path proc, int pid) {
        String s = read(proc.resolve(pid + "/stat"));
        return parseStat(pid, s);
    }

    static Optional<Proc> parseStat(int pid, String s) {
        int open = s.indexOf('(');
        int close = s.lastIndexOf(')');
        if (open < 0 || close < open) {
            return Optional.empty();
        }
        String[] f = s.substring(close + 2).trim().split(" ");
        if (f.length < 5) {
            return Optional.empty();
        }
        return Optional.of(new Proc(pid, s.substring(open + 1, close), Integer.parseInt(f[1]),
                Integer.parseInt(f[3]), Integer.parseInt(f[2]), Integer.parseInt(f[4])));
    }

    boolean holdsMaster(int index) {
        return masters.containsKey(index);
    }

    /** @return the lowest slave fd of {@code pid} on pty {@code index}, or -1 */
    int firstSlaveFd(int pid, int index) {
        return slaves.getOrDefault(index, List.of()).stream().filter(h -> h.pid() == pid).mapToInt(Holder::fd)
                .min().orElse(-1);
    }

    /** @return the target of the symbolic link {@code p}, empty when it cannot be read (the fd was closed) */
    private static Optional<String> readLink(Path p) {
        try {
            return Optional.of(Files.readSymbolicLink(p).toString());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
