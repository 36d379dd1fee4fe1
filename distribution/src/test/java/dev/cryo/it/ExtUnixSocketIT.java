package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The external-unix-socket plugin ({@code --ext-unix-sk}) through bin/cryo: a client in the tree talks to a server
 * outside it ({@code extsk_server}, started by the test and never dumped). Without the option the dump is refused and
 * the client keeps running; with it, the restored client is connected anew: a datagram server receives every datagram
 * the client sent, before and after; a stream server sees a new connection and the bytes of its connections,
 * concatenated, are exactly the client's records. Refusals: an unlisted peer, a nameless peer, a restore without the
 * option, a restore whose server is gone (nothing left running), the plugin disabled. A real client: python3's
 * {@code logging.handlers.SysLogHandler}, which keeps a datagram socket connected to a syslog path.
 */
class ExtUnixSocketIT extends WithTestBed {
    private static final int KILLED = 128 + ProcessControl.SIGKILL;
    private static final Pattern GOT = Pattern.compile("got (?:<\\d+>)?rec (\\d+) from (.*)");
    private static final Pattern TICK = Pattern.compile("tick (\\d+)");

    @Test
    void datagramClientIsRefusedWithoutTheOptionAndReconnectedWithIt() {
        Path sock = bed.workloads().newDir("run").resolve("log.sock");
        Workload srv = bed.workloads().start("extsk_server", "dgram", sock.toString());
        Workload cl = bed.workloads().start("extsk_client", "dgram", sock.toString());
        int fd = Integer.parseInt(cl.ready("fd"));
        cl.awaitNewTicks(3);

        Path refused = bed.newImageDir();
        bed.cryo().dump(cl.pid(), refused).assertFailedWithFix(CryoResult.UNSUPPORTED)
                .assertStderrNamesPid(cl.pid()).assertStderrNamesPid(srv.pid())
                .assertStderrMentions("unix-socket/EXTERNAL_PEER", "--ext-unix-sk", sock.toString(), "fd " + fd,
                        "ino " + srv.ready("ino"));
        assertFalse(Files.exists(refused.resolve("inventory.img")), "a refused dump left an image");
        assertTrue(cl.isAlive(), cl + " was harmed by the refused dump");
        cl.awaitNewTicks(3);
        cl.assertVerifyPass();

        Path image = bed.dumpAndAwaitGone(cl, "--ext-unix-sk");
        Struct ext = single(bed.cryo().show(image).records("external.img"));
        assertEquals("DGRAM_CONNECTED", ShowOutput.text(ext, "connection"), ShowOutput.json(ext));
        assertEquals(srv.ready("ino"), ShowOutput.text(ext, "peer_ino"));
        assertEquals(sock.toString(), ShowOutput.text(ext, "peer_name_text"));
        assertEquals(Long.toString(srv.pid()), ShowOutput.text(ext, "peer_owner_pid"));
        assertEquals(Long.toString(cl.pid()), ShowOutput.text(ext, "holder_pid"));
        assertFalse(ShowOutput.text(ext, "peer_path_ino").isEmpty() || ShowOutput.text(ext, "peer_path_ino").equals("0"), "path inode: "
                + ShowOutput.json(ext));
        long lastBeforeDump = lastTick(cl.log());

        Workload r = bed.restoreAndAwait(cl, image, 5, "--ext-unix-sk");
        r.assertVerifyPass();                       // every send succeeded, before and after the restore
        long last = lastTick(cl.log());
        assertTrue(last > lastBeforeDump + 3, "ticks after restore: " + lastBeforeDump + " -> " + last);
        List<Long> got = awaitReceived(srv, last);
        assertEquals(sequence(got.size()), got, "the server received every datagram, in order, once");
        String own = cl.workdir().resolve("client.sock").toString();
        assertTrue(srv.log().linesFrom(0).stream().anyMatch(l -> l.equals("got rec " + last + " from " + own)),
                "the restored client sends from its own name " + own + ": " + srv.log().tail(3));
    }

    @Test
    void streamClientMakesANewConnectionAndTheServerGetsEveryRecordOnce() throws IOException {
        Path sock = bed.workloads().newDir("run").resolve("app.sock");
        Workload srv = bed.workloads().start("extsk_server", "stream", sock.toString());
        Workload cl = bed.workloads().start("extsk_client", "stream", sock.toString());
        String accepted = srv.log().awaitPrefix(0, "accepted 1 ", Workload.TIMEOUT);
        String peerIno = accepted.substring(accepted.indexOf("ino=") + 4);
        cl.awaitNewTicks(5);

        Path image = bed.dumpAndAwaitGone(cl, "--ext-unix-sk=" + peerIno);   // the accepted connection's inode
        Struct ext = single(bed.cryo().show(image).records("external.img"));
        assertEquals("STREAM_ACCEPTED", ShowOutput.text(ext, "connection"), ShowOutput.json(ext));
        assertEquals(peerIno, ShowOutput.text(ext, "peer_ino"));
        assertEquals(srv.ready("ino"), ShowOutput.text(ext, "listener_ino"));
        srv.log().awaitPrefix(0, "closed 1 ", Workload.TIMEOUT);          // the old connection ended at the kill

        Workload r = bed.restoreAndAwait(cl, image, 5, "--ext-unix-sk");
        srv.log().awaitPrefix(0, "accepted 2 ", Workload.TIMEOUT);        // the server sees a new client
        r.assertVerifyPass();                                             // every write succeeded
        r.kill();
        srv.log().awaitPrefix(0, "closed 2 ", Workload.TIMEOUT);
        long last = lastTick(cl.log());

        String all = Files.readString(srv.workdir().resolve("conn-1.bin"), StandardCharsets.US_ASCII)
                + Files.readString(srv.workdir().resolve("conn-2.bin"), StandardCharsets.US_ASCII);
        // the client logs `tick N` after writing record N: a SIGKILL between the two leaves one record unlogged
        String upToLast = records(last);
        assertTrue(all.equals(upToLast) || all.equals(upToLast + String.format("rec %08d\n", last + 1)),
                "the connections hold exactly records 1.." + last + " (or one more), got " + all.length()
                        + " bytes ending " + all.substring(Math.max(0, all.length() - 60)).replace("\n", "|"));
        assertFalse(Files.exists(srv.workdir().resolve("conn-3.bin")), "a third connection");
    }

    @Test
    void onlyListedPeersAreAcceptedAndRestoreWithoutTheOptionNamesEveryPeer() {
        Path dir = bed.workloads().newDir("run");
        Path a = dir.resolve("a.sock"), b = dir.resolve("b.sock");
        Workload srvA = bed.workloads().start("extsk_server", "dgram", a.toString());
        Workload srvB = bed.workloads().start("extsk_server", "dgram", b.toString());
        Workload cl = bed.workloads().start("extsk_client", "dgram", a.toString(), b.toString());
        cl.awaitNewTicks(3);
        String inoA = srvA.ready("ino"), inoB = srvB.ready("ino");

        bed.cryo().dump(cl.pid(), bed.newImageDir(), "--ext-unix-sk=" + inoA)
                .assertFailedWithFix(CryoResult.UNSUPPORTED)
                .assertStderrMentions("external-unix-socket/PEER_NOT_LISTED", "--ext-unix-sk=" + inoA,
                        "does not list ino " + inoB, b.toString(), "--ext-unix-sk=" + inoA + "," + inoB)
                .assertStderrNamesPid(cl.pid()).assertStderrNamesPid(srvB.pid());
        cl.assertLeftRunning();

        Path image = bed.dumpAndAwaitGone(cl, "--ext-unix-sk=" + inoA + "," + inoB);
        assertEquals(2, bed.cryo().show(image).records("external.img").size());
        CryoResult r = bed.cryo().restore(image).assertFailedWithFix(CryoResult.UNSUPPORTED)
                .assertStderrMentions("external-unix-socket/OPTION_MISSING", "2 unix sockets", "without --ext-unix-sk",
                        a.toString(), b.toString(), "ino " + inoA, "ino " + inoB)
                .assertStderrNamesPid(cl.pid());
        bed.assertNoProcessWithPid(cl.pid(), cl.comm(), r);

        CryoResult listed = bed.cryo().restore(image, "--ext-unix-sk=" + inoA)
                .assertFailedWithFix(CryoResult.UNSUPPORTED)
                .assertStderrMentions("1 unix socket", "--ext-unix-sk=" + inoA + " does not list", b.toString());
        bed.assertNoProcessWithPid(cl.pid(), cl.comm(), listed);
    }

    @Test
    void restoreFailsNamingThePathWhenTheServerIsGoneAndLeavesNothingRunning() throws IOException {
        Path sock = bed.workloads().newDir("run").resolve("log.sock");
        Workload srv = bed.workloads().start("extsk_server", "dgram", sock.toString());
        Workload cl = bed.workloads().start("extsk_client", "dgram", sock.toString());
        int fd = Integer.parseInt(cl.ready("fd"));
        cl.awaitNewTicks(3);
        Path image = bed.dumpAndAwaitGone(cl, "--ext-unix-sk");
        srv.kill();                                  // its socket file stays: nothing is bound there

        CryoResult stale = bed.cryo().restore(image, "--ext-unix-sk").assertFailedWithFix(CryoResult.CONFLICT)
                .assertStderrMentions("external-unix-socket/PEER_ABSENT", sock.toString(), "fd " + fd,
                        "ECONNREFUSED")
                .assertStderrNamesPid(cl.pid());
        bed.assertNoProcessWithPid(cl.pid(), cl.comm(), stale);

        Files.delete(sock);
        CryoResult missing = bed.cryo().restore(image, "--ext-unix-sk").assertFailedWithFix(CryoResult.CONFLICT)
                .assertStderrMentions(sock.toString(), "fd " + fd, "ENOENT").assertStderrNamesPid(cl.pid());
        bed.assertNoProcessWithPid(cl.pid(), cl.comm(), missing);
    }

    @Test
    void streamRestoreFailsWhenNothingListens() {
        Path sock = bed.workloads().newDir("run").resolve("app.sock");
        Workload srv = bed.workloads().start("extsk_server", "stream", sock.toString());
        Workload cl = bed.workloads().start("extsk_client", "stream", sock.toString());
        cl.awaitNewTicks(3);
        Path image = bed.dumpAndAwaitGone(cl, "--ext-unix-sk");
        srv.kill();
        CryoResult r = bed.cryo().restore(image, "--ext-unix-sk").assertFailedWithFix(CryoResult.CONFLICT)
                .assertStderrMentions(sock.toString(), "nothing listens there").assertStderrNamesPid(cl.pid());
        bed.assertNoProcessWithPid(cl.pid(), cl.comm(), r);
    }

    @Test
    void namelessPeerIsRefusedEvenWithTheOption() {
        Workload cl = bed.workloads().start("extsk_client", "pair");
        long helper = bed.workloads().trackReadyPid(cl, "helper");
        cl.awaitNewTicks(2);
        bed.cryo().dump(cl.pid(), bed.newImageDir(), "--ext-unix-sk").assertFailedWithFix(CryoResult.UNSUPPORTED)
                .assertStderrMentions("external-unix-socket/NOT_RECONNECTABLE", "no name", "socketpair",
                        "pid " + helper + "'s tree")
                .assertStderrNamesPid(cl.pid());
        cl.assertLeftRunning();
    }

    @Test
    void disabledPluginMakesTheOptionAnErrorNamingIt() {
        Path sock = bed.workloads().newDir("run").resolve("log.sock");
        bed.workloads().start("extsk_server", "dgram", sock.toString());
        Workload cl = bed.workloads().start("extsk_client", "dgram", sock.toString());
        cl.awaitNewTicks(2);
        Path conf = bed.cryo().writeConfig("no-ext.conf", "plugins.disabled external-unix-socket");
        Path image = bed.newImageDir();
        bed.cryo().dump(cl.pid(), image, "--ext-unix-sk", "--config", conf.toString())
                .assertFailedWithFix(CryoResult.PLUGIN)
                .assertStderrMentions("external-unix-socket", "plugins.disabled", "--ext-unix-sk");
        assertFalse(Files.exists(image.resolve("inventory.img")), "a refused dump left an image");
        cl.assertLeftRunning();
    }

    /** A real syslog client: python3's SysLogHandler keeps a datagram socket connected to the syslog path. */
    @Test
    void pythonSysLogHandlerKeepsLoggingAfterRestore() {
        Path sock = bed.workloads().newDir("run").resolve("dev-log");
        Workload srv = bed.workloads().start("extsk_server", "dgram", sock.toString());
        Workload py = bed.workloads().python("syslog_client", SYSLOG_CLIENT.replace("@SOCK@", sock.toString()));
        py.awaitNewTicks(3);
        bed.cryo().dump(py.pid(), bed.newImageDir()).assertFailedWithFix(CryoResult.UNSUPPORTED)
                .assertStderrMentions("--ext-unix-sk", sock.toString());
        Path image = bed.dumpAndAwaitGone(py, "--ext-unix-sk");
        Workload r = bed.restoreAndAwait(py, image, 5, "--ext-unix-sk");
        r.assertVerifyPass();
        long last = lastTick(py.log());
        List<Long> got = awaitReceived(srv, last);
        assertEquals(sequence(got.size()), got, "syslog server received every record, in order, once");
        r.kill();
    }

    private static final String SYSLOG_CLIENT = """
            import logging, logging.handlers, os, signal, sys, time

            os.chdir(sys.argv[1])
            failures = []

            class Handler(logging.handlers.SysLogHandler):
                def handleError(self, record):
                    failures.append(f"{record.getMessage()}: {sys.exc_info()[1]!r}")

            handler = Handler(address="@SOCK@")
            log = logging.getLogger("extsk")
            log.addHandler(handler)
            log.setLevel(logging.INFO)
            requested = [False]

            def on_usr2(signo, frame):
                requested[0] = True

            signal.signal(signal.SIGUSR2, on_usr2)
            pid = os.getpid()
            print(f"READY pid={pid} fd={handler.socket.fileno()}", flush=True)
            n = 0
            while True:
                n += 1
                log.info("rec %d", n)
                print(f"tick {n}", flush=True)
                time.sleep(0.05)
                if not requested[0]:
                    continue
                requested[0] = False
                if failures:
                    print(f"VERDICT FAIL {len(failures)} failed emits, first: {failures[0]}", flush=True)
                else:
                    print(f"VERDICT PASS pid={pid} sent={n}", flush=True)
            """;

    // ---- helpers ----

    /** Waits until the server logged record {@code last}, then returns every record number it logged, in order. */
    private static List<Long> awaitReceived(Workload srv, long last) {
        srv.log().awaitLine(0, l -> l.matches("got (<\\d+>)?rec " + last + " from .*"), "record " + last,
                Workload.TIMEOUT);
        List<Long> got = new ArrayList<>();
        for (String l : srv.log().linesFrom(0)) {
            Matcher m = GOT.matcher(l);
            if (m.matches()) {
                got.add(Long.parseLong(m.group(1)));
            }
        }
        return got;
    }

    private static List<Long> sequence(int n) {
        List<Long> out = new ArrayList<>(n);
        for (long i = 1; i <= n; i++) {
            out.add(i);
        }
        return out;
    }

    private static String records(long last) {
        StringBuilder sb = new StringBuilder();
        for (long i = 1; i <= last; i++) {
            sb.append(String.format("rec %08d\n", i));
        }
        return sb.toString();
    }

    private static long lastTick(LogFile log) {
        long last = -1;
        for (String l : log.linesFrom(0)) {
            Matcher m = TICK.matcher(l);
            if (m.matches()) {
                last = Math.max(last, Long.parseLong(m.group(1)));
            }
        }
        return last;
    }

    private static Struct single(List<Struct> envelopes) {
        assertEquals(1, envelopes.size(), "records: " + envelopes);
        Value v = envelopes.get(0).getFieldsOrDefault("record", null);
        return v == null ? envelopes.get(0) : v.getStructValue();
    }
}
