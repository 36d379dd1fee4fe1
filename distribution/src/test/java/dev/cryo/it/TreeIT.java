package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Process trees through dump and restore: sessions and process groups, open file descriptions shared across fork, a
 * real shell waiting for its background jobs, a tree that forks while it is frozen, and the dumps cryo must refuse
 * (a zombie, an fd no plugin handles) without harming the tree. Workloads: {@code tree_sessions.c},
 * {@code tree_fds.c}, {@code tree_forker.c}, and {@code bash}.
 */
class TreeIT extends WithTestBed {
    /** x86_64 number of wait4, where bash waits for its jobs. */
    private static final int WAIT4 = 61;

    private static final int KILLED = 128 + ProcessControl.SIGKILL;

    /** 7 processes, depth 3, two sessions, four groups (one joined by a sibling): every process checks itself. */
    @Test
    void sessionsAndGroupsOfASevenProcessTreeSurviveRestore() {
        Workload w = bed.workloads().start("tree_sessions");
        Map<String, Long> pids = readyPids(w, "a", "a2", "a1", "s", "s1", "s11");
        w.awaitNewTicks(2);
        w.assertVerifyPass();
        Map<Long, ProcStat> before = snapshot(w.pid(), pids.values());
        assertEquals(pids.get("a2"), before.get(pids.get("a1")).pgrp(), "a1 joined its sibling a2's group");
        assertEquals(pids.get("s"), before.get(pids.get("s11")).session(), "s11 is in s's session");

        Path image = bed.dumpAndAwaitGone(w);
        Restored restored = restore(w, image, 2);
        Workload r = restored.workload();
        RunningCryo rc = restored.cryo();
        pids.values().forEach(bed.workloads()::trackForeignPid);

        assertSameLayout(before, snapshot(w.pid(), pids.values()));
        String verdict = r.assertVerifyPass();
        assertTrue(verdict.contains("procs=7"), verdict);
        r.assertVerifyPass();

        // the restored tree dumps and restores again (its shared area is a memfd now, its processes were forked
        // by cryo)
        Path again = bed.dumpAndAwaitGone(r);
        Cryo.await(rc).assertExit(KILLED);
        // cryo restore returns when the root is reaped; the tree's other processes, killed by the dump at the same
        // moment and reparented to that cryo, may not be reaped by it yet: they come to this JVM when it exits
        ProcessControl.reapOrphans();
        Restored second = restore(w, again, 2);
        assertSameLayout(before, snapshot(w.pid(), pids.values()));
        verdict = second.workload().assertVerifyPass();
        assertTrue(verdict.contains("request=4"), "the request counter lives in the shared area: " + verdict);
        second.workload().kill();
        Cryo.await(second.cryo()).assertExit(KILLED);
    }

    /**
     * Four processes append numbered records to one O_APPEND description; two share one offset. After restore no
     * record is lost or overwritten and a write by one moves the offset the other sees.
     */
    @Test
    void sharedAppendLogAndSharedOffsetStayOneOpenFileDescription() throws Exception {
        Workload w = bed.workloads().start("tree_fds");
        Map<String, Long> pids = readyPids(w, "w1", "w2", "w3");
        w.awaitNewTicks(3);
        w.assertVerifyPass();
        Map<Long, ProcStat> before = snapshot(w.pid(), pids.values());

        Path image = bed.dumpAndAwaitGone(w);
        long logSizeAtDump = Files.size(w.workdir().resolve("shared.log"));
        Restored restored = restore(w, image, 3);
        Workload r = restored.workload();
        RunningCryo rc = restored.cryo();
        pids.values().forEach(bed.workloads()::trackForeignPid);
        assertSameLayout(before, snapshot(w.pid(), pids.values()));

        // the writers append after the records written before the dump (a restored offset of 0 would overwrite)
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (Files.size(w.workdir().resolve("shared.log")) <= logSizeAtDump + 48 * 8) {
            assertTrue(System.nanoTime() < deadline, "the log did not grow after restore");
            ProcessControl.sleep(20);
        }
        r.assertVerifyPass();
        r.assertVerifyPass();
        // every process still has the same description: same inode, one position for the shared-offset pair
        long w1 = pids.get("w1");
        assertEquals(fdPos(w.pid(), Integer.parseInt(w.ready("off_fd"))), fdPos(w1, Integer.parseInt(w.ready("off_fd"))),
                "root and w1 see different offsets of offset.dat");
        for (long p : pids.values()) {
            assertTrue(fdFlags(p, Integer.parseInt(w.ready("log_fd"))) % 010000 / 02000 == 1,
                    "pid " + p + " lost O_APPEND on shared.log");
        }
        TestBed.killRestored(r, rc);
    }

    /** A real shell: {@code bash -c 'sleep 1000 & sleep 1000 & wait'}; its {@code wait} must still work. */
    @Test
    void bashKeepsWaitingForItsRestoredBackgroundJobs() {
        Path workdir = bed.workloads().newDir("bash");
        Workload bash = bed.workloads().startCommand("bash", List.of(Workloads.which("bash"), "-c",
                "sleep 1000 & sleep 1000 & wait; echo wait-returned; exit 42"), workdir);
        List<Long> sleeps = awaitChildren(bash.pid(), "sleep", 2);
        Map<Long, ProcStat> before = snapshot(bash.pid(), sleeps);

        Path image = bed.dumpAndAwaitGone(bash);
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, bash);
        sleeps.forEach(bed.workloads()::trackForeignPid);
        // bash shows its name while cryo still rebuilds the tree: a signal before the resume would hit a stopped
        // process (and fail the restore)
        awaitResumed(rc, bash.pid(), sleeps);
        assertSameLayout(before, snapshot(bash.pid(), sleeps));
        assertEquals(List.copyOf(sleeps), awaitChildren(bash.pid(), "sleep", 2), "bash's children after restore");

        // kill one sleep: bash reaps it and keeps waiting for the other
        ProcessControl.kill(sleeps.get(0), ProcessControl.SIGKILL);
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (ProcStat.read(sleeps.get(0)).isPresent()) {
            assertTrue(System.nanoTime() < deadline, "bash did not reap the killed sleep " + sleeps.get(0) + ": "
                    + ProcStat.read(sleeps.get(0)));
            ProcessControl.sleep(20);
        }
        Workload.awaitInSyscall(bash.pid(), "bash", Workload.TIMEOUT, WAIT4); // waiting for the other job again
        assertTrue(r.isAlive(), "bash exited after one of its two jobs was killed (pid " + bash.pid() + " is "
                + ProcStat.read(bash.pid()).map(ProcStat::toString).orElse("gone") + "); log:\n" + bash.log().tail(10)
                + "\n" + rc.snapshot().describe());
        assertTrue(rc.isAlive(), "cryo restore exited: " + rc.snapshot().describe());
        assertEquals(bash.pid(), ProcStat.read(sleeps.get(1)).orElseThrow().ppid(), "the other sleep's parent");
        assertFalse(bash.log().linesFrom(0).contains("wait-returned"), "wait returned early:\n" + bash.log().tail(10));

        // kill the other: wait returns, bash exits 42 and cryo restore exits with bash's status
        ProcessControl.kill(sleeps.get(1), ProcessControl.SIGKILL);
        CryoResult result = Cryo.await(rc);
        result.assertExit(42);
        assertTrue(bash.log().linesFrom(0).contains("wait-returned"), "bash's log:\n" + bash.log().tail(10));
    }

    /**
     * A process forks and reaps short-lived children in a tight loop while cryo freezes the tree: the dump succeeds
     * (whatever moment it caught) and the restored tree verifies. Five rounds, each dumping the restored tree: here
     * about half of all dumps catch a child that has exited but is not reaped yet, and some catch a live child.
     */
    @Test
    void treeThatForksDuringTheFreezeDumpsAndRestores() {
        Workload w = bed.workloads().start("tree_forker", "forker");
        long forker = bed.workloads().trackReadyPid(w, "forker");
        long steady = bed.workloads().trackReadyPid(w, "steady");
        w.assertVerifyPass();
        Workload current = w;
        RunningCryo rc = null;
        for (int round = 1; round <= 5; round++) {
            Path image = bed.dumpAndAwaitGone(current);
            if (rc != null) {
                Cryo.await(rc).assertExit(KILLED);
                ProcessControl.reapOrphans(); // see sessionsAndGroupsOfASevenProcessTreeSurviveRestore
            }
            Restored restored = restore(w, image, 2);
            current = restored.workload();
            rc = restored.cryo();
            bed.workloads().trackForeignPid(forker);
            bed.workloads().trackForeignPid(steady);
            String verdict = current.assertVerifyPass();
            assertTrue(verdict.startsWith("VERDICT PASS"), "round " + round + ": " + verdict);
            assertEquals(w.pid(), ProcStat.read(forker).orElseThrow().ppid(), "round " + round + ": forker's parent");
        }
        TestBed.killRestored(current, rc);
    }

    /** A zombie in the tree is dumped and restored as a zombie: unreaped child of its parent, same wait status. */
    @Test
    void treeWithAZombieIsRestoredWithTheZombie() throws Exception {
        Workload w = bed.workloads().start("tree_forker", "zombie");
        long zombie = Long.parseLong(w.ready("zombie"));
        long steady = Long.parseLong(w.ready("steady"));
        bed.workloads().trackForeignPid(steady);
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);
        Workload restored = bed.restoreAndAwait(w, image, 2);
        bed.workloads().trackForeignPid(steady);
        // the workload itself checks that tf-zombie is again an unreaped zombie child of the root
        restored.assertVerifyPass();
        String stat = new String(Files.readAllBytes(Path.of("/proc/" + zombie + "/stat")));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        assertEquals("Z", f[0], "state of the restored zombie " + zombie);
        assertEquals(3 << 8, Integer.parseInt(f[52 - 3].trim()), "wait status of the restored zombie (exit 3): " + stat);
    }

    /**
     * A grandchild ("ts-s11", session s) holds a userfaultfd, which no plugin handles: the dump is refused naming pid,
     * name, fd and kind, and every process of the tree is left running and still verifies.
     */
    @Test
    void failedDumpOfATreeLeavesEveryProcessRunning() {
        Workload w = bed.workloads().start("tree_sessions", "unhandled");
        Map<String, Long> pids = readyPids(w, "a", "a2", "a1", "s", "s1", "s11");
        pids.values().forEach(bed.workloads()::trackForeignPid);
        long bad = Long.parseLong(w.ready("bad_pid"));
        String fd = w.ready("bad_fd");
        w.assertVerifyPass();
        Map<Long, ProcStat> before = snapshot(w.pid(), pids.values());

        Path image = bed.newImageDir();
        CryoResult result = bed.cryo().dump(w.pid(), image);
        result.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(bad)
                .assertStderrMentions("ts-s11", "userfaultfd").assertStderrMatches("fd " + fd + "(?!\\d)", "fd " + fd);
        assertFalse(Files.exists(image.resolve("inventory.img")), "a refused dump left an inventory.img");
        assertHealthy(w, pids.values(), result);
        assertSameLayout(before, snapshot(w.pid(), pids.values()));
        w.awaitNewTicks(2);
        w.assertVerifyPass();
        w.assertVerifyPass();
    }

    // ---- helpers ----

    private record Restored(Workload workload, RunningCryo cryo) {
    }

    /** Restores without -d in the background; waits for the root and {@code ticks} new tick lines. */
    private Restored restore(Workload original, Path image, int ticks) {
        long mark = original.log().size();
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, original);
        original.log().awaitTicks(mark, ticks, Workload.TIMEOUT);
        return new Restored(r, rc);
    }

    private static Map<String, Long> readyPids(Workload w, String... keys) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String k : keys) {
            m.put(k, Long.parseLong(w.ready(k)));
        }
        return m;
    }

    /** @return the stat of the root and of each other pid, asserted to exist and not to be zombies */
    private static Map<Long, ProcStat> snapshot(long root, Iterable<Long> others) {
        Map<Long, ProcStat> m = new LinkedHashMap<>();
        List<Long> all = new ArrayList<>();
        all.add(root);
        others.forEach(all::add);
        for (long p : all) {
            ProcStat st = awaitLive(p);
            m.put(p, st);
        }
        return m;
    }

    private static ProcStat awaitLive(long pid) {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (true) {
            var st = ProcStat.read(pid);
            if (st.isPresent() && !st.get().isZombie() && !st.get().comm().equals("cryo-stub")) {
                return st.get();
            }
            assertTrue(System.nanoTime() < deadline, "pid " + pid + " is " + st.map(ProcStat::toString).orElse("gone"));
            ProcessControl.sleep(10);
        }
    }

    /** Asserts name, parent (except the root's), group and session of every process are as before. */
    private static void assertSameLayout(Map<Long, ProcStat> before, Map<Long, ProcStat> after) {
        List<String> diffs = new ArrayList<>();
        long root = before.keySet().iterator().next();
        for (var e : before.entrySet()) {
            ProcStat b = e.getValue();
            ProcStat a = after.get(e.getKey());
            if (a == null || !a.comm().equals(b.comm()) || a.pgrp() != b.pgrp() || a.session() != b.session()
                    || (e.getKey() != root && a.ppid() != b.ppid())) {
                diffs.add("before " + b + "\n  after  " + a);
            }
        }
        assertTrue(diffs.isEmpty(), "process layout changed:\n  " + String.join("\n  ", diffs));
    }

    /** Asserts the refused dump left every process running, untraced, not stopped, and the root ticking. */
    private static void assertHealthy(Workload root, Iterable<Long> others, CryoResult context) {
        List<Long> all = new ArrayList<>(List.of(root.pid()));
        others.forEach(all::add);
        for (long p : all) {
            ProcStat st = ProcStat.read(p).orElseThrow(() -> new AssertionError("pid " + p + " is gone after a failed"
                    + " dump: " + context.describe()));
            assertFalse(st.isZombie() || st.state() == 'T' || st.state() == 't',
                    "pid " + p + " is left in state " + st.state() + " after a failed dump: " + context.describe());
            assertEquals("0", status(p, "TracerPid"), "pid " + p + " is still traced after a failed dump");
        }
        root.awaitNewTicks(2);
    }

    private static String status(long pid, String field) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (l.startsWith(field + ":")) {
                    return l.substring(field.length() + 1).trim();
                }
            }
        } catch (java.io.IOException e) {
            throw new AssertionError("cannot read /proc/" + pid + "/status", e);
        }
        throw new AssertionError("no " + field + " in /proc/" + pid + "/status");
    }

    private static long fdinfo(long pid, int fd, String field) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "fdinfo", Integer.toString(fd)))) {
                if (l.startsWith(field + ":")) {
                    String v = l.substring(field.length() + 1).trim();
                    return field.equals("flags") ? Long.parseLong(v, 8) : Long.parseLong(v);
                }
            }
        } catch (java.io.IOException e) {
            throw new AssertionError("cannot read fdinfo " + fd + " of pid " + pid, e);
        }
        throw new AssertionError("no " + field + " in fdinfo " + fd + " of pid " + pid);
    }

    private static long fdPos(long pid, int fd) {
        return fdinfo(pid, fd, "pos");
    }

    private static long fdFlags(long pid, int fd) {
        return fdinfo(pid, fd, "flags");
    }

    /** Waits until cryo has let every process go: each is untraced and not stopped. */
    private static void awaitResumed(RunningCryo rc, long root, List<Long> others) {
        List<Long> all = new ArrayList<>(List.of(root));
        all.addAll(others);
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        for (long p : all) {
            while (true) {
                ProcStat st = awaitLive(p);
                if (st.state() != 't' && st.state() != 'T' && "0".equals(status(p, "TracerPid"))) {
                    break;
                }
                assertTrue(rc.isAlive(), "cryo restore exited: " + rc.snapshot().describe());
                assertTrue(System.nanoTime() < deadline, "pid " + p + " still held by cryo: " + st);
                ProcessControl.sleep(10);
            }
        }
    }

    /** Waits until {@code parent} has {@code n} children named {@code comm}; returns their pids, ascending. */
    private static List<Long> awaitChildren(long parent, String comm, int n) {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (true) {
            List<Long> kids = TestBed.descendantsOf(parent).stream()
                    .filter(p -> ProcStat.read(p).filter(s -> s.ppid() == parent && s.comm().equals(comm)
                            && !s.isZombie()).isPresent())
                    .sorted().toList();
            if (kids.size() == n) {
                return kids;
            }
            assertTrue(System.nanoTime() < deadline, "pid " + parent + " has children " + kids + ", expected " + n
                    + " named " + comm);
            ProcessControl.sleep(10);
        }
    }
}
