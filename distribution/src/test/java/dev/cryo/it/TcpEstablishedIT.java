package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Established TCP connections with {@code --tcp-established} (TCP_REPAIR under an nftables network lock) and
 * {@code --tcp-close}, on loopback: a client outside the tree keeps its connection through dump and restore without an
 * error, a gap or a duplicate; unread data in both directions is neither lost nor doubled; both ends inside the tree;
 * the lock survives a refused restore and is gone after the restore and after a dump that leaves the tree running.
 */
class TcpEstablishedIT extends WithTestBed {

    @Test
    void anOutsideClientKeepsItsConnectionThroughDumpAndRestore() throws Exception {
        Workload w = bed.workloads().start("inet_sockets", "echo");
        int port = Integer.parseInt(w.ready("port"));
        try (InetSocketIT.EchoClient client = new InetSocketIT.EchoClient(port)) {
            client.exchange(3);
            client.startBackground();
            client.awaitAnswered(20, Workload.TIMEOUT);
            long t0 = System.nanoTime();
            Path image = bed.dumpAndAwaitGone(w, "--tcp-established");
            long dumpMs = (System.nanoTime() - t0) / 1_000_000;
            String table = lockTables(w.pid());
            assertTrue(table.contains("cryo_lock_" + w.pid() + "_"), "the dump left its network lock: " + table);
            long before = client.answered();

            // without the option: refused before anything exists; the lock stays and the message says how to lift it
            CryoResult refused = bed.cryo().restore(image, "-d");
            refused.assertFailedWithFix(CryoResult.USAGE).assertStderrMentions("inet-socket/TCP_ESTABLISHED_OPTION",
                    "--tcp-established", "nft delete table inet cryo_lock_" + w.pid());
            bed.assertNoProcessWithPid(w.pid(), w.comm(), refused);
            assertEquals(table, lockTables(w.pid()), "a refused restore keeps the lock");

            t0 = System.nanoTime();
            RunningCryo rc = bed.cryo().restoreInBackground(image, "--tcp-established");
            Workload r = bed.awaitRestoredRoot(rc, w);
            long restoreMs = (System.nanoTime() - t0) / 1_000_000;
            client.awaitAnswered(before + 50, Duration.ofSeconds(60));
            assertNull(client.error(), "the client saw an error, a gap or a duplicate");
            assertEquals("", lockTables(w.pid()), "the restore lifted the network lock");
            System.out.printf("established connection: dump %d ms, restore (until the root runs) %d ms, worst"
                    + " round trip %d ms%n", dumpMs, restoreMs, client.worstMillis());
            client.close();
            TestBed.killRestored(r, rc);
        }
    }

    /**
     * A listener with SO_REUSEPORT may share its port, so the check before the restore leaves the decision to bind; a
     * listener without it holds the port meanwhile: bind fails in the restored process, the restore fails naming the
     * holder, kills what it created and lifts the network lock (the client then sees its connection reset).
     */
    @Test
    void aRestoreThatFailsAfterCreatingProcessesLiftsTheLock() throws Exception {
        Workload w = bed.workloads().start("inet_sockets", "echo", "reuseport");
        int port = Integer.parseInt(w.ready("port"));
        try (InetSocketIT.EchoClient client = new InetSocketIT.EchoClient(port)) {
            client.exchange(3);
            Path image = bed.dumpAndAwaitGone(w, "--tcp-established");
            assertFalse(lockTables(w.pid()).isEmpty(), "the dump took a lock");
            try (java.net.ServerSocket thief = new java.net.ServerSocket()) {
                thief.bind(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
                CryoResult r = bed.cryo().restore(image, "-d", "--tcp-established");
                r.assertFailedWithFix(CryoResult.CONFLICT).assertStderrMentions("inet-socket/ADDRESS_IN_USE",
                        "restore failed", "127.0.0.1:" + port, "processes are killed").assertStderrNamesPid(ProcessControl.selfPid());
                bed.assertNoProcessWithPid(w.pid(), w.comm(), r);
            }
            assertEquals("", lockTables(w.pid()), "a failed restore lifted the lock");
            client.exchange(1);
            assertTrue(client.error() != null, "the connection could not survive a failed restore");
        }
    }

    @Test
    void unreadDataInBothDirectionsIsNeitherLostNorDoubled() throws Exception {
        Workload w = bed.workloads().start("inet_sockets", "hold", "50000");
        int port = Integer.parseInt(w.ready("port"));
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            w.log().awaitPrefix(0, "HELD", Workload.TIMEOUT);      // 60000 bytes wait in the client's queue
            byte[] mine = new byte[50000];
            for (int i = 0; i < mine.length; i++) {
                mine[i] = (byte) (i % 239);
            }
            s.getOutputStream().write(mine);                      // and 50000 in the server's
            s.getOutputStream().flush();
            Path image = bed.dumpAndAwaitGone(w, "--tcp-established");
            RunningCryo rc = bed.cryo().restoreInBackground(image, "--tcp-established");
            Workload r = bed.awaitRestoredRoot(rc, w);

            s.setSoTimeout(30_000);
            byte[] got = readFully(s.getInputStream(), 60000);
            byte[] want = new byte[60000];
            for (int i = 0; i < want.length; i++) {
                want[i] = (byte) (i % 251);
            }
            assertArrayEquals(want, got, "the bytes the server had sent before the dump");
            s.setSoTimeout(500);
            try {
                int extra = s.getInputStream().read();
                throw new AssertionError("a byte more than the server sent: " + extra);
            } catch (SocketTimeoutException expected) {
                // nothing doubled
            }
            long mark = w.log().size();
            r.signal(ProcessControl.SIGUSR1);
            String line = w.log().awaitPrefix(mark, "GOT", Workload.TIMEOUT);
            assertEquals("GOT 50000 ok", line, "the bytes the client had sent before the dump");
            TestBed.killRestored(r, rc);
        }
    }

    @Test
    void aConnectionWithBothEndsInTheTreeIsKept() throws Exception {
        Workload w = bed.workloads().start("inet_sockets", "pair");
        w.awaitNewTicks(1);
        Path image = bed.dumpAndAwaitGone(w, "--tcp-established");
        long mark = w.log().size();
        RunningCryo rc = bed.cryo().restoreInBackground(image, "--tcp-established");
        Workload r = bed.awaitRestoredRoot(rc, w);
        w.log().awaitTicks(mark, 1, Workload.TIMEOUT);
        r.assertVerifyPass();    // 40000 and 30000 unread bytes, each exactly once
        r.assertVerifyPass();    // and a fresh round trip
        assertEquals("", lockTables(w.pid()));
        TestBed.killRestored(r, rc);
    }

    @Test
    void aDumpThatLeavesTheTreeRunningLiftsTheLockAndTheConnectionGoesOn() throws Exception {
        Workload w = bed.workloads().start("inet_sockets", "echo");
        int port = Integer.parseInt(w.ready("port"));
        try (InetSocketIT.EchoClient client = new InetSocketIT.EchoClient(port)) {
            client.startBackground();
            client.awaitAnswered(10, Workload.TIMEOUT);
            bed.cryo().dump(w.pid(), bed.newImageDir(), "--tcp-established", "-R").assertOk();
            assertEquals("", lockTables(w.pid()), "dump -R lifted the lock");
            long after = client.answered();
            client.awaitAnswered(after + 30, Duration.ofSeconds(30));
            assertNull(client.error());
            assertTrue(w.isAlive());
        }
    }

    @Test
    void tcpCloseRestoresTheConnectionClosedAndTheServerGoesOn() throws Exception {
        Workload w = bed.workloads().start("inet_sockets", "echo");
        int port = Integer.parseInt(w.ready("port"));
        InetSocketIT.EchoClient client = new InetSocketIT.EchoClient(port);
        client.exchange(3);
        Path image = bed.dumpAndAwaitGone(w, "--tcp-close");
        assertEquals("", lockTables(w.pid()), "--tcp-close takes no lock");
        client.close();
        bed.cryo().restore(image, "-d").assertFailedWithFix(CryoResult.USAGE)
                .assertStderrMentions("inet-socket/TCP_CLOSE_OPTION", "--tcp-close");
        long mark = w.log().size();
        RunningCryo rc = bed.cryo().restoreInBackground(image, "--tcp-close");
        Workload r = bed.awaitRestoredRoot(rc, w);
        // the restored connection reads end-of-file: the server closes it and serves the next client
        w.log().awaitLine(mark, l -> l.startsWith("closed served=3"), "the server closing the restored connection",
                Workload.TIMEOUT);
        try (InetSocketIT.EchoClient next = new InetSocketIT.EchoClient(port)) {
            next.exchange(5);
            assertNull(next.error());
        }
        TestBed.killRestored(r, rc);
    }

    // ---- helpers ----

    private static byte[] readFully(InputStream in, int n) throws IOException {
        byte[] b = new byte[n];
        int off = 0;
        while (off < n) {
            int r = in.read(b, off, n - off);
            if (r < 0) {
                throw new AssertionError("end of stream after " + off + " of " + n + " bytes");
            }
            off += r;
        }
        return b;
    }

    /** @return the names of cryo's network-lock tables of dumps of {@code pid} now, space-separated; "" when none */
    static String lockTables(long pid) throws Exception {
        Process p = new ProcessBuilder("nft", "list", "tables").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        StringBuilder sb = new StringBuilder();
        for (String line : out.split("\n")) {
            if (line.contains("cryo_lock_" + pid + "_")) {
                sb.append(sb.length() == 0 ? "" : " ").append(line.replace("table inet ", "").strip());
            }
        }
        return sb.toString();
    }
}
