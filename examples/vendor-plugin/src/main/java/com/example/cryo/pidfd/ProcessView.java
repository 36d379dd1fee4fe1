package com.example.cryo.pidfd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A process or thread as {@code /proc/PID/status} and {@code /proc/PID/stat} show it: enough to say whether cryo
 * froze it (its tracer is a thread of cryo's process), whether it is a thread, and to recognise it again later (its
 * start time).
 *
 * @param pid       the pid (or tid) read
 * @param name      {@code Name:} (the comm)
 * @param state     the first letter of {@code State:} ({@code Z} zombie)
 * @param tgid      {@code Tgid:}: the process a thread belongs to (= pid for a process)
 * @param ppid      {@code PPid:}
 * @param tracerPid {@code TracerPid:}: the tid of the thread ptracing it, 0 when none
 * @param startTime field 22 of {@code stat}: start time in clock ticks since boot
 */
record ProcessView(int pid, String name, char state, int tgid, int ppid, int tracerPid, long startTime) {

    boolean isZombie() {
        return state == 'Z' || state == 'X';
    }

    boolean isThread() {
        return tgid != pid;
    }

    /**
     * @param procRoot {@code /proc} (tests pass a directory laid out like it)
     * @return the process now, empty when there is none with that pid
     */
    static Optional<ProcessView> read(Path procRoot, int pid) {
        Path dir = procRoot.resolve(Integer.toString(pid));
        try {
            String status = Files.readString(dir.resolve("status"), StandardCharsets.UTF_8);
            String stat = Files.readString(dir.resolve("stat"), StandardCharsets.UTF_8);
            return Optional.of(parse(pid, status, stat));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static ProcessView parse(int pid, String status, String stat) {
        String name = "?";
        char state = '?';
        int tgid = pid;
        int ppid = 0;
        int tracer = 0;
        for (String line : status.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String value = line.substring(colon + 1).trim();
            switch (line.substring(0, colon)) {
                case "Name" -> name = value;
                case "State" -> state = value.isEmpty() ? '?' : value.charAt(0);
                case "Tgid" -> tgid = Integer.parseInt(value);
                case "PPid" -> ppid = Integer.parseInt(value);
                case "TracerPid" -> tracer = Integer.parseInt(value);
                default -> {
                }
            }
        }
        return new ProcessView(pid, name, state, tgid, ppid, tracer, startTimeOf(stat));
    }

    /** @return field 22 of a {@code stat} line; the name (field 2) is in parentheses and may hold anything */
    static long startTimeOf(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        return Long.parseLong(f[19]); // f[0] is field 3
    }

    /** @return {@code pid 77 "sshd"} */
    String who() {
        return (isThread() ? "thread " + pid + " of pid " + tgid : "pid " + pid) + " \"" + name + "\"";
    }
}
