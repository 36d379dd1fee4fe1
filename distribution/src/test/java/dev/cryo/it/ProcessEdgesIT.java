package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Process-tree edge cases: a process group whose leader is gone (a live and a zombie member) is rebuilt around a
 * helper and the zombie keeps its group, parent, exit status and name; a deleted working directory and an fd on
 * {@code /proc/PID/ns/*} are refused at dump with a message naming the process and the object, leaving it running.
 */
class ProcessEdgesIT extends WithTestBed {

    @Test
    void aGroupWhoseLeaderIsGoneKeepsItsLiveAndZombieMembers() {
        Workload w = bed.workloads().start("orphan_group");
        long group = Long.parseLong(w.ready("group"));
        long live = Long.parseLong(w.ready("live"));
        long zombie = Long.parseLong(w.ready("zombie"));
        bed.workloads().trackForeignPid(live);
        w.assertVerifyPass();
        ProcStat liveBefore = ProcStat.read(live).orElseThrow();
        ProcStat zombieBefore = ProcStat.read(zombie).orElseThrow();
        assertEquals('Z', zombieBefore.state());

        TestBed.Restored restored = bed.dumpRestoreAndAwait(w, 2);
        Workload r = restored.workload();
        RunningCryo rc = restored.cryo();
        bed.workloads().trackForeignPid(live);
        for (ProcStat before : List.of(liveBefore, zombieBefore)) {
            ProcStat after = ProcStat.read(before.pid()).orElseThrow();
            assertEquals(List.of(before.comm(), before.state(), before.ppid(), before.pgrp(), before.session()),
                    List.of(after.comm(), after.state(), after.ppid(), after.pgrp(), after.session()),
                    "pid " + before.pid() + " (comm, state, ppid, pgrp, session) after restore");
        }
        assertTrue(ProcStat.read(group).isEmpty(), "the group's helper " + group + " is still there");
        r.assertVerifyPass();
        TestBed.killRestored(r, rc);
    }

    @Test
    void aDeletedWorkingDirectoryIsRefused() throws IOException {
        Path dir = bed.workloads().newDir("cwd");
        Path gone = Files.createDirectory(dir.resolve("gone"));
        Workload w = bed.workloads().startCommand("sleep", List.of(Workloads.which("sh"), "-c",
                "cd " + gone + " && rmdir " + gone + " && exec " + Workloads.which("sleep") + " 1000"), dir);
        await(() -> link(w.pid(), "cwd").endsWith("(deleted)") && ProcStat.commOf(w.pid()).equals("sleep"),
                "a deleted cwd of " + w);
        CryoResult r = bed.cryo().dump(w.pid(), bed.newImageDir());
        r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrMentions("sleep", "working directory", gone.toString(), "deleted");
        assertTrue(w.isAlive(), w + " was not left running");
    }

    @Test
    void aNamespaceFdIsRefused() {
        Path dir = bed.workloads().newDir("ns");
        Workload w = bed.workloads().startCommand("sleep", List.of(Workloads.which("sh"), "-c",
                "exec 7</proc/self/ns/net; exec " + Workloads.which("sleep") + " 1000"), dir);
        await(() -> link(w.pid(), "fd/7").startsWith("net:[") && ProcStat.commOf(w.pid()).equals("sleep"),
                "fd 7 of " + w + " on its net namespace");
        CryoResult r = bed.cryo().dump(w.pid(), bed.newImageDir());
        r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrMentions("sleep", "fd 7", "net namespace", "/proc/PID/ns/net");
        assertTrue(w.isAlive(), w + " was not left running");
    }

    private static String link(long pid, String name) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), name)).toString();
        } catch (IOException e) {
            return "";
        }
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + what + " within " + Workload.TIMEOUT.toSeconds() + " s");
            }
            ProcessControl.sleep(10);
        }
    }
}
