package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The inet-socket plugin through bin/cryo, on loopback only: every kind of socket kept without options (the
 * {@code inet_sockets} workload checks itself; clients outside the tree check the listeners and the UDP servers),
 * {@code python3 -m http.server} serving after restore, the refusal of a restore whose port is taken and of a dump
 * holding an established connection (both sides keep running).
 */
class InetSocketIT extends WithTestBed {

    @Test
    void socketsOfEveryKindSurviveRestore() throws Exception {
        Workload w = bed.workloads().start("inet_sockets");
        w.awaitNewTicks(1);
        int tcp4 = Integer.parseInt(w.ready("tcp4"));
        int tcp6 = Integer.parseInt(w.ready("tcp6"));
        int udp = Integer.parseInt(w.ready("udp"));
        int udp6 = Integer.parseInt(w.ready("udp6"));
        assertEquals("hello " + w.pid(), greeting("127.0.0.1", tcp4));
        assertEquals("ping", udpEcho("127.0.0.1", udp, "ping"));
        Path image = bed.dumpAndAwaitGone(w);

        long mark = w.log().size();
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        w.log().awaitTicks(mark, 1, Workload.TIMEOUT);
        r.assertVerifyPass();   // names, options (keepalive, nodelay, linger, rcvbuf, v6only, reuseport), flags, UDP
        assertEquals("hello " + w.pid(), greeting("127.0.0.1", tcp4), "IPv4 listener after restore");
        assertEquals("hello " + w.pid(), greeting("::1", tcp6), "IPv6 listener after restore");
        assertEquals("after-restore", udpEcho("127.0.0.1", udp, "after-restore"), "UDP server after restore");
        assertEquals("v6", udpEcho("::1", udp6, "v6"), "IPv6 UDP server after restore");
        r.assertVerifyPass();
        TestBed.killRestored(r, rc);
    }

    @Test
    void pythonHttpServerServesAfterRestore() throws Exception {
        int port = freePort();
        Path dir = bed.workloads().newDir("www");
        Files.writeString(dir.resolve("index.html"), "<p>cryo was here</p>\n");
        Workload w = bed.workloads().startCommand("http.server", List.of(Workloads.python3(), "-m", "http.server",
                "--bind", "127.0.0.1", Integer.toString(port)), dir);
        String before = awaitHttp(port, "/index.html");
        assertEquals("<p>cryo was here</p>\n", before);
        Path image = bed.dumpAndAwaitGone(w);
        RunningCryo rc = bed.cryo().restoreInBackground(image, "--skip-file-size-check");
        Workload r = bed.awaitRestoredRoot(rc, w);
        assertEquals(before, awaitHttp(port, "/index.html"), "the restored server serves the same page");
        assertEquals(before, awaitHttp(port, "/index.html"), "and again");
        TestBed.killRestored(r, rc);
    }

    @Test
    void restoreRefusesWhenThePortIsTakenAndCreatesNothing() throws Exception {
        Workload w = bed.workloads().start("inet_sockets");
        w.awaitNewTicks(1);
        int tcp4 = Integer.parseInt(w.ready("tcp4"));
        Path image = bed.dumpAndAwaitGone(w);
        try (ServerSocket thief = new ServerSocket()) {
            thief.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), tcp4));
            CryoResult r = bed.cryo().restore(image, "-d");
            r.assertFailedWithFix(CryoResult.CONFLICT)
                    .assertStderrMentions("inet-socket/ADDRESS_IN_USE", "127.0.0.1:" + tcp4, "listener",
                            "nothing was created", "\"" + w.comm() + "\"")
                    .assertStderrNamesPid(ProcessControl.selfPid());
            bed.assertNoProcessWithPid(w.pid(), w.comm(), r);
        }
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        r.assertVerifyPass();
        TestBed.killRestored(r, rc);
    }

    @Test
    void establishedConnectionIsRefusedWithoutTheOptionAndBothSidesGoOn() throws Exception {
        Workload w = bed.workloads().start("inet_sockets", "echo");
        int port = Integer.parseInt(w.ready("port"));
        try (EchoClient client = new EchoClient(port)) {
            client.exchange(5);
            Path image = bed.newImageDir();
            CryoResult r = bed.cryo().dump(w.pid(), image);
            r.assertFailedWithFix(CryoResult.UNSUPPORTED)
                    .assertStderrNamesPid(w.pid())
                    .assertStderrMentions("inet-socket/ESTABLISHED", w.comm(), "fd ", "127.0.0.1:" + port + " -> 127.0.0.1:"
                            + client.localPort(), "ESTABLISHED", "--tcp-established", "--tcp-close");
            assertFalse(Files.exists(image.resolve("inventory.img")), "a refused dump left an image");
            assertTrue(w.isAlive(), w + " was harmed by the refused dump");
            client.exchange(5);
            assertNull(client.error(), "the client saw an error");
        }
    }

    // ---- helpers ----

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Connects, reads the one line the inet_sockets listener writes. */
    static String greeting(String host, int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 5000);
            s.setSoTimeout(10_000);
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }

    /** Sends one datagram and returns the answer; retries a few times (UDP). */
    static String udpEcho(String host, int port, String text) throws IOException {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getByName(host))) {
            s.setSoTimeout(1000);
            byte[] out = text.getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 10; i++) {
                s.send(new DatagramPacket(out, out.length, InetAddress.getByName(host), port));
                DatagramPacket in = new DatagramPacket(new byte[256], 256);
                try {
                    s.receive(in);
                    return new String(in.getData(), 0, in.getLength(), StandardCharsets.US_ASCII);
                } catch (java.net.SocketTimeoutException e) {
                    // lost or not answered yet: again
                }
            }
            return null;
        }
    }

    /** GETs a path until the server answers (it may still be starting or just restored). */
    static String awaitHttp(int port, String path) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build();
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (true) {
            try {
                HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
                assertEquals(200, resp.statusCode(), "GET " + path);
                return resp.body();
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                ProcessControl.sleep(50);
            }
        }
    }

    /**
     * A client outside the tree on one TCP connection to the {@code echo} workload: "REQ n" / "RESP n", numbered
     * from 1 without gaps. {@link #exchange} runs rounds in the caller's thread; {@link #startBackground} keeps
     * exchanging in a thread of its own until closed.
     */
    static final class EchoClient implements AutoCloseable {
        private final Socket socket;
        private final OutputStream out;
        private final BufferedReader in;
        private volatile long next = 1;
        private volatile String error;
        private volatile boolean stop;
        private volatile long worstMillis;
        private Thread thread;

        EchoClient(int port) throws IOException {
            socket = new Socket();
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(60_000);
            out = socket.getOutputStream();
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
        }

        int localPort() {
            return socket.getLocalPort();
        }

        /** @return requests answered so far */
        long answered() {
            return next - 1;
        }

        String error() {
            return error;
        }

        long worstMillis() {
            return worstMillis;
        }

        void exchange(int rounds) {
            for (int i = 0; i < rounds && error == null; i++) {
                long n = next;
                long t0 = System.nanoTime();
                try {
                    out.write(("REQ " + n + "\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    String line = in.readLine();
                    if (!("RESP " + n).equals(line)) {
                        error = "request " + n + " answered with " + line;
                        return;
                    }
                } catch (IOException e) {
                    error = "request " + n + ": " + e;
                    return;
                }
                worstMillis = Math.max(worstMillis, (System.nanoTime() - t0) / 1_000_000);
                next = n + 1;
            }
        }

        void startBackground() {
            thread = new Thread(() -> {
                while (!stop && error == null) {
                    exchange(1);
                    ProcessControl.sleep(5);
                }
            }, "echo-client");
            thread.setDaemon(true);
            thread.start();
        }

        /** Waits until {@code n} requests in all have been answered (or an error). */
        void awaitAnswered(long n, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (answered() < n && error == null) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("only " + answered() + " of " + n + " requests answered within "
                            + timeout.toSeconds() + " s");
                }
                ProcessControl.sleep(10);
            }
        }

        @Override
        public void close() throws IOException {
            stop = true;
            if (thread != null) {
                try {
                    thread.join(70_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            socket.close();
        }
    }
}
