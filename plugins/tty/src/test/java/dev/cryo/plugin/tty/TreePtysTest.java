package dev.cryo.plugin.tty;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tree's ptys from a fake /proc: children, fd links, fdinfo tty-index, stat's session and tty_nr. */
class TreePtysTest {
    @Test
    void ttyNrOfUnix98SlavesGivesTheIndex() {
        // /dev/pts/3: major 136, minor 3 -> 0x8803; /dev/pts/300: major 137, minor 44 -> 0x892c
        assertEquals(3, new TreePtys.Proc(1, "a", 0, 1, 1, 0x8803).cttyIndex());
        assertEquals(300, new TreePtys.Proc(1, "a", 0, 1, 1, 0x892c).cttyIndex());
        assertEquals(-1, new TreePtys.Proc(1, "a", 0, 1, 1, 0x0401).cttyIndex()); // /dev/tty1
        assertEquals(-1, new TreePtys.Proc(1, "a", 0, 1, 1, 0).cttyIndex());
    }

    @Test
    void statWithSpacesAndParenthesesInComm() {
        TreePtys.Proc p = TreePtys.parseStat(42, "42 (tmux: server) (x) S 1 42 42 34819 42 4194560 0").orElseThrow();
        assertEquals("tmux: server) (x", p.comm());
        assertEquals(1, p.ppid());
        assertEquals(42, p.session());
        assertEquals(42, p.pgrp());
        assertEquals(34819, p.ctty());
        assertEquals(3, p.cttyIndex());
    }

    @Test
    void fdinfoTtyIndex() {
        assertEquals(OptionalInt.of(7), TreePtys.parseTtyIndex("pos:\t0\nflags:\t0104002\nmnt_id:\t25\nino:\t2\n"
                + "tty-index:\t7\n"));
        assertTrue(TreePtys.parseTtyIndex("pos:\t0\n").isEmpty());
    }

    @Test
    void scanFollowsChildrenOfEveryThread(@TempDir Path proc) throws Exception {
        process(proc, 10, "10 (tmux) S 1 10 10 0", List.of(20));
        Files.createSymbolicLink(proc.resolve("10/fd/5"), Path.of("/dev/ptmx"));
        Files.writeString(proc.resolve("10/fdinfo/5"), "pos:\t0\ntty-index:\t4\n");
        process(proc, 20, "20 (bash) S 10 20 20 " + (136 << 8 | 4), List.of());
        Files.createSymbolicLink(proc.resolve("20/fd/0"), Path.of("/dev/pts/4"));
        Files.createSymbolicLink(proc.resolve("20/fd/255"), Path.of("/dev/pts/4"));
        Files.createSymbolicLink(proc.resolve("20/fd/3"), Path.of("/dev/pts/9"));
        process(proc, 30, "30 (other) S 1 30 30 0", List.of()); // not in the tree

        TreePtys t = TreePtys.scan(proc, 10);
        assertEquals(List.of(10, 20), List.copyOf(t.procs.keySet()));
        assertTrue(t.holdsMaster(4));
        assertFalse(t.holdsMaster(9));
        assertEquals(0, t.firstSlaveFd(20, 4));
        assertEquals(-1, t.firstSlaveFd(10, 4));
        assertEquals(4, t.procs.get(20).cttyIndex());
    }

    private static void process(Path proc, int pid, String stat, List<Integer> children) throws Exception {
        Path d = proc.resolve(Integer.toString(pid));
        Files.createDirectories(d.resolve("fd"));
        Files.createDirectories(d.resolve("fdinfo"));
        Files.createDirectories(d.resolve("task/" + pid));
        Files.writeString(d.resolve("stat"), stat + " 0 0 0\n");
        Files.writeString(d.resolve("task/" + pid + "/children"),
                String.join(" ", children.stream().map(String::valueOf).toList()) + (children.isEmpty() ? "" : " "));
    }
}
