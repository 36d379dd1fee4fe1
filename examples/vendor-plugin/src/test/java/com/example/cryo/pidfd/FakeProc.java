package com.example.cryo.pidfd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A directory laid out like {@code /proc}, with just the files the handler reads. */
final class FakeProc {
    final Path root;

    FakeProc(Path root) {
        this.root = root;
    }

    /** Adds {@code /proc/PID/status} and {@code stat}. */
    FakeProc process(int pid, String name, char state, int tgid, int ppid, int tracerPid, long startTime) {
        write(pid + "/status", "Name:\t" + name + "\nUmask:\t0022\nState:\t" + state + " (whatever)\nTgid:\t" + tgid
                + "\nNgid:\t0\nPid:\t" + pid + "\nPPid:\t" + ppid + "\nTracerPid:\t" + tracerPid + "\n");
        StringBuilder stat = new StringBuilder(pid + " (" + name + ") " + state + " " + ppid);
        for (int field = 5; field <= 21; field++) {
            stat.append(" 0");
        }
        stat.append(' ').append(startTime).append(" 1000 10\n");
        write(pid + "/stat", stat.toString());
        return this;
    }

    /** Adds {@code /proc/PID/fdinfo/FD} of a pidfd on {@code target}. */
    FakeProc pidfd(int pid, int fd, String targetLine) {
        write(pid + "/fdinfo/" + fd, "pos:\t0\nflags:\t02004002\nmnt_id:\t15\nino:\t1234\n" + targetLine);
        return this;
    }

    void remove(int pid) {
        try (var w = Files.walk(root.resolve(Integer.toString(pid)))) {
            w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void write(String rel, String text) {
        try {
            Path p = root.resolve(rel);
            Files.createDirectories(p.getParent());
            Files.writeString(p, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
