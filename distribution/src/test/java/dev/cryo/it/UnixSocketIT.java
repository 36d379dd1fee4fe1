package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The unix-socket plugin through bin/cryo with the {@code unix_sockets} workload: every kind of AF_UNIX socket of
 * one process survives dump → restore (the restored program checks queues, boundaries, names, options, the pending
 * connection and a new client itself and prints VERDICT PASS), {@code cryo show} renders the sockets, and a socket
 * connected to a server outside the tree makes the dump refuse naming both processes while the client keeps
 * talking. The workload must not be verified before the dump: its first verify drains the queues it checks.
 */
class UnixSocketIT extends WithTestBed {

    @Test
    void socketsOfOneProcessSurviveRestore() {
        Workload w = bed.workloads().start("unix_sockets");
        w.awaitNewTicks(2);
        TestBed.Restored restored = bed.dumpRestoreAndAwait(w, 2);
        Workload r = restored.workload();
        RunningCryo rc = restored.cryo();
        String first = r.assertVerifyPass();       // queues, boundaries, senders, names, options, pending, new client
        assertTrue(first.contains("pid=" + w.pid() + " "), first);
        r.assertVerifyPass();                      // the pairs keep working: fresh round trips
        TestBed.killRestored(r, rc);
    }

    @Test
    void sameImageRestoresTwiceWithPathsRebound() {
        Workload w = bed.workloads().start("unix_sockets");
        w.awaitNewTicks(2);
        Path image = bed.dumpAndAwaitGone(w);
        for (int i = 0; i < 2; i++) {
            // the log the workload appends to grew since the dump
            TestBed.Restored restored = bed.restoreAndAwaitWithCryo(w, image, 2, "--skip-file-size-check");
            Workload r = restored.workload();
            RunningCryo rc = restored.cryo();
            r.assertVerifyPass();                  // the second restore found stale srv.sock/dg.sock files and rebound
            TestBed.killRestored(r, rc);
            ProcessControl.reapOrphans();
        }
    }

    @Test
    void showRendersSockets() {
        Workload w = bed.workloads().start("unix_sockets");
        w.awaitNewTicks(2);
        int srv = Integer.parseInt(w.ready("srv"));
        Path image = bed.dumpAndAwaitGone(w);
        ShowOutput show = bed.cryo().show(image);
        List<Struct> sockets = show.records("unix-socket.img").stream().map(UnixSocketIT::record).toList();
        assertEquals(18, sockets.size(), "sockets in unix-socket.img: " + sockets);
        Map<String, Long> byState = sockets.stream().collect(Collectors.groupingBy(s -> ShowOutput.text(s, "state_name"),
                Collectors.counting()));
        assertEquals(2L, byState.get("listening"), "listeners: " + byState);
        assertEquals(1L, byState.get("pending"), "pending clients: " + byState);
        Struct listener = sockets.stream().filter(s -> ShowOutput.text(s, "name_text").equals(w.workdir() + "/srv.sock")
                && ShowOutput.text(s, "state_name").equals("listening")).findFirst().orElseThrow(() ->
                new AssertionError("no listener at srv.sock in " + sockets));
        assertEquals("stream", ShowOutput.text(listener, "type_name"));
        long listenerIno = Long.parseLong(ShowOutput.text(listener, "ino"));
        Struct fd = ShowOutput.fdRecord(show.fd(w.pid(), srv));
        assertEquals(listenerIno, Long.parseLong(ShowOutput.text(fd, "ino")), "fd " + srv + " record " + ShowOutput.json(fd));
        assertTrue(sockets.stream().anyMatch(s -> ShowOutput.text(s, "type_name").equals("dgram")
                && ShowOutput.text(s, "queued_records").equals("3") && ShowOutput.text(s, "queued_bytes").equals("10013")),
                "the dgram end with d1 + 10000 bytes + dgram-three queued: " + sockets);
    }

    @Test
    void peerOutsideTheTreeIsRefusedAndClientKeepsTalking() {
        Workload w = bed.workloads().start("unix_sockets", "external");
        long helper = bed.workloads().trackReadyPid(w, "helper");
        int fd = Integer.parseInt(w.ready("fd"));
        w.awaitNewTicks(2);
        Path image = bed.newImageDir();
        CryoResult r = bed.cryo().dump(w.pid(), image);
        r.assertFailedWithFix(CryoResult.UNSUPPORTED)
                .assertStderrNamesPid(w.pid())
                .assertStderrNamesPid(helper)
                .assertStderrMentions("unix-socket/EXTERNAL_PEER", w.comm(), "fd " + fd,
                        w.workdir().resolve("ext.sock").toString(), "--ext-unix-sk", "pid " + helper + "'s tree",
                        "outside the dumped tree");
        assertFalse(Files.exists(image.resolve("inventory.img")), "a refused dump left an image");
        assertTrue(w.isAlive(), w + " was harmed by the refused dump");
        w.awaitNewTicks(3);
        w.assertVerifyPass();                      // every ping was echoed, before and after the refused dump
    }

    /** Parent and child share a stream and a dgram socketpair with data queued both ways. */
    @Test
    void socketpairsBetweenParentAndChildSurviveRestore() {
        Workload w = bed.workloads().start("unix_sockets", "tree");
        long child = Long.parseLong(w.ready("child"));
        w.awaitNewTicks(2);
        TestBed.Restored restored = bed.dumpRestoreAndAwait(w, 2);
        Workload r = restored.workload();
        RunningCryo rc = restored.cryo();
        assertTrue(ProcStat.read(child).isPresent(), "restored child " + child);
        r.assertVerifyPass();
        r.assertVerifyPass();
        TestBed.killRestored(r, rc);
    }

    // ---- helpers ----

    private static Struct record(Struct envelope) {
        Value v = envelope.getFieldsOrDefault("record", null);
        return v == null ? envelope : v.getStructValue();
    }
}
