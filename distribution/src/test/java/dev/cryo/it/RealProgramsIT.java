package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Real event-loop programs, each started in its own session, used from outside before the dump, dumped (killed),
 * restored, and checked from outside: same pid, same data, still working. A missing program fails the test (CI
 * installs them: see .ci/run). Each test prints {@code TIMING <program> dump=<ms> restore=<ms>}: the wall time of
 * {@code cryo dump} and from the start of {@code cryo restore} to the first answer of the restored program.
 */
class RealProgramsIT extends WithTestBed {

    /** redis-server on a unix socket (epoll, pipes, eventfd-less; 4 threads): keys survive, INCR continues. */
    @Test
    void redisKeepsItsKeysAndCounts() throws IOException {
        String redis = program("redis-server", "redis-server");
        Path dir = bed.workloads().newDir("redis");
        Path sock = dir.resolve("redis.sock");
        Workload w = bed.workloads().startCommand("redis", List.of(redis, "--port", "0", "--unixsocket",
                sock.toString(), "--save", "", "--appendonly", "no", "--dir", dir.toString()), dir);
        w.log().awaitLine(0, l -> l.contains("ready to accept connections"), "redis ready", Workload.TIMEOUT);
        try (Resp r = Resp.connect(sock)) {
            assertEquals("+OK", r.call("SET", "greeting", "hello from before the dump"));
            assertEquals("+OK", r.call("SET", "big", "x".repeat(100_000)));
            assertEquals(":1", r.call("INCR", "counter"));
            assertEquals(":2", r.call("INCR", "counter"));
        }

        TestBed.TimedDump dump = bed.timedDump(w);

        TestBed.Restoring restore = bed.startRestore(dump.image(), w);
        Workload restored = restore.workload();
        try (Resp r = Resp.connect(sock)) {
            assertEquals("$26 hello from before the dump", r.call("GET", "greeting"));
            long restoreMs = restore.elapsedMs();
            assertEquals("$100000 " + "x".repeat(100_000), r.call("GET", "big"));
            assertEquals(":3", r.call("INCR", "counter"), "INCR continues");
            assertEquals("+OK", r.call("SET", "after", "restore"));
            assertEquals("$7 restore", r.call("GET", "after"));
            assertTrue(r.call("INFO", "server").contains("process_id:" + w.pid()), "same pid");
            System.out.println("TIMING redis-server dump=" + dump.ms() + "ms restore=" + restoreMs + "ms");
        }
        try (Resp r = Resp.connect(sock)) {
            assertEquals(":4", r.call("INCR", "counter"), "a second client after the restore");
        }
        TestBed.killRestored(restored, restore.cryo());
    }

    /** python3 asyncio: a unix-socket server and a periodic task on one event loop; both keep working. */
    @Test
    void pythonAsyncioServerAndPeriodicTaskKeepWorking() throws IOException {
        Workload w = bed.workloads().python("asyncio_server", ASYNCIO_SERVER);
        Path sock = Path.of(w.ready("sock"));
        w.awaitNewTicks(3);
        String before = Line.ask(sock, "before");
        assertTrue(before.startsWith("pid=" + w.pid() + " ") && before.contains("served=1 echo=before"), before);
        long ticksBefore = field(before, "ticks");

        TestBed.TimedDump dump = bed.timedDump(w);
        TestBed.Restoring restore = bed.startRestore(dump.image(), w);
        Workload r = restore.workload();
        String after = Line.ask(sock, "after");
        long restoreMs = restore.elapsedMs();
        assertTrue(after.startsWith("pid=" + w.pid() + " ") && after.contains("served=2 echo=after"),
                "the server kept its state: " + after);
        r.awaitNewTicks(5);
        String later = Line.ask(sock, "later");
        assertTrue(field(later, "ticks") >= ticksBefore + 5, "the periodic task goes on: " + before + " / " + later);
        reportAndKill("python3-asyncio", dump, restore, restoreMs);
    }

    /** node with setInterval writing a counter: it continues from where it was, no restart. */
    @Test
    void nodeSetIntervalCounterContinues() throws IOException {
        String node = program("node", "nodejs");
        Path dir = bed.workloads().newDir("node");
        Path script = dir.resolve("counter.js");
        Files.writeString(script, NODE_COUNTER);
        Workload w = bed.workloads().startCommand("node", List.of(node, script.toString(), dir.toString()), dir);
        w.awaitReady();
        w.awaitNewTicks(5);
        Path counter = dir.resolve("counter");

        TestBed.TimedDump dump = bed.timedDump(w);
        // the log, not the counter file: the dump may catch writeFileSync between its truncate and its write
        long atDump = w.log().linesFrom(0).stream().filter(l -> l.startsWith("tick "))
                .mapToLong(l -> Long.parseLong(l.substring(5).trim())).max().orElse(0);
        TestBed.Restoring restore = bed.startRestore(dump.image(), w);
        Workload r = restore.workload();
        long mark = r.log().size();
        long first = r.log().awaitTicks(mark, 1, Workload.TIMEOUT);
        long restoreMs = restore.elapsedMs();
        assertTrue(first > atDump && first <= atDump + 3, "the counter was " + atDump + " at the dump and the restored"
                + " node went on with " + first + " (a restarted program starts again at 1)");
        long last = r.log().awaitTicks(mark, 10, Workload.TIMEOUT);
        assertTrue(Long.parseLong(Files.readString(counter).trim()) >= last - 1, "the counter file follows");
        reportAndKill("node", dump, restore, restoreMs);
    }

    /** tail -f: a line appended after the restore is printed; tail does not die of EINTR (CRIU's tail does). */
    @Test
    void tailFollowPrintsALineAppendedAfterTheRestore() throws IOException {
        String tail = program("tail", "coreutils");
        Path dir = bed.workloads().newDir("tail");
        Path file = dir.resolve("followed.txt");
        Files.writeString(file, "written before tail started\n");
        Workload w = bed.workloads().startCommand("tail", List.of(tail, "-f", file.toString()), dir);
        w.log().awaitPrefix(0, "written before tail started", Workload.TIMEOUT);
        Files.writeString(file, "appended before the dump\n", StandardOpenOption.APPEND);
        w.log().awaitPrefix(0, "appended before the dump", Workload.TIMEOUT);
        awaitSleeping(w);

        TestBed.TimedDump dump = bed.timedDump(w);
        TestBed.Restoring restore = bed.startRestore(dump.image(), w);
        Workload r = restore.workload();
        awaitSleeping(r);
        long restoreMs = restore.elapsedMs();
        long mark = r.log().size();
        Files.writeString(file, "appended after the restore\n", StandardOpenOption.APPEND);
        r.log().awaitPrefix(mark, "appended after the restore", Workload.TIMEOUT);
        Files.writeString(file, "and one more\n", StandardOpenOption.APPEND);
        r.log().awaitPrefix(mark, "and one more", Workload.TIMEOUT);
        assertTrue(r.isAlive(), "tail died: " + r.log().tail(5));
        assertTrue(r.log().linesFrom(0).stream().noneMatch(l -> l.contains("Interrupted system call")),
                r.log().tail(5));
        reportAndKill("tail-f", dump, restore, restoreMs);
    }

    /**
     * A JVM (this build's java, default flags) serving HTTP on 127.0.0.1 with a counter and a ticking thread. The JVM
     * keeps an flock on its hsperfdata file through a shared mapping only (it closes the fd): without --file-locks
     * the dump is refused naming that file and the option, the JVM unharmed; with it the JVM is dumped, restored,
     * holds its lock again and goes on counting its hits for a client outside.
     */
    @Test
    void jvmHttpServerKeepsServing() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path dir = bed.workloads().newDir("jvm");
        Path source = dir.resolve("Server.java");
        Files.writeString(source, JVM_SERVER);
        Workload w = bed.workloads().startCommand("java", List.of(java, "-Xmx64m", source.toString()), dir);
        w.awaitReady();
        int port = Integer.parseInt(w.ready("port"));
        assertEquals("hits=1", get(port));
        w.awaitNewTicks(3);

        CryoResult refused = bed.cryo().dump(w.pid(), bed.newImageDir());
        refused.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrMentions("hsperfdata", "flock", "--file-locks");
        assertTrue(w.isAlive(), w + " was not left running after the refused dump");
        assertEquals("hits=2", get(port));
        String lock = hsperfdataLock(w.pid());
        awaitNoConnection(port);

        TestBed.TimedDump dump = bed.timedDump(w, "--file-locks");
        // any JVM started now deletes the file of a dead pid: the restore recreates it from the image
        Files.deleteIfExists(Path.of("/tmp/hsperfdata_root/" + w.pid()));
        TestBed.Restoring restore = bed.startRestore(dump.image(), w, "--file-locks");
        Workload r = restore.workload();
        assertEquals("hits=3", get(port), "the restored JVM answers with its counter");
        long restoreMs = restore.elapsedMs();
        assertEquals(lock, hsperfdataLock(w.pid()), "the restored JVM holds its hsperfdata lock again");
        r.awaitNewTicks(5);
        assertEquals("hits=4", get(port));
        reportAndKill("java-http", dump, restore, restoreMs);
    }

    /**
     * Prints {@code TIMING <program> dump=<ms> restore=<ms>} ({@code restoreMs}: until the restored program first
     * answered) and kills the restored root ({@link TestBed#killRestored}).
     */
    static void reportAndKill(String program, TestBed.TimedDump dump, TestBed.Restoring restore, long restoreMs) {
        System.out.println("TIMING " + program + " dump=" + dump.ms() + "ms restore=" + restoreMs + "ms");
        TestBed.killRestored(restore.workload(), restore.cryo());
    }

    // ---- helpers ----

    /**
     * @return the body of {@code GET http://127.0.0.1:PORT/}, retrying while the connection is refused: until the
     *     restore has rebuilt the listener nobody listens on the port
     */
    private static String get(int port) throws IOException {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (true) {
            try {
                return getOnce(port);
            } catch (java.net.ConnectException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                ProcessControl.sleep(20);
            }
        }
    }

    private static String getOnce(int port) throws IOException {
        java.net.HttpURLConnection c = (java.net.HttpURLConnection)
                java.net.URI.create("http://127.0.0.1:" + port + "/").toURL().openConnection();
        c.setConnectTimeout(10_000);
        c.setReadTimeout(10_000);
        c.setRequestProperty("Connection", "close");
        try (java.io.InputStream in = c.getInputStream()) {
            assertEquals(200, c.getResponseCode());
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        } finally {
            c.disconnect();
        }
    }

    /** Waits until the server closed its end of every connection to {@code port} (HTTP "Connection: close"). */
    private static void awaitNoConnection(int port) throws IOException {
        String local = String.format(":%04X ", port);
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (true) {
            String tables = ProcStat.readProcFile(Path.of("/proc/net/tcp"))
                    + ProcStat.readProcFile(Path.of("/proc/net/tcp6"));
            // sl local_address rem_address st ...: a connection accepted on port, not yet closed by the server
            boolean open = tables.lines().map(String::trim).map(l -> l.split("\\s+")).anyMatch(f -> f.length > 3
                    && (f[1] + " ").endsWith(local) && !f[3].equals("0A") && !f[3].equals("06"));
            if (!open) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the server still holds a connection on port " + port + ":\n" + tables);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /**
     * @return the /proc/locks line of the flock {@code pid} holds on its hsperfdata file, without its ordinal and
     *     inode (the file may be a recreated one)
     */
    private static String hsperfdataLock(long pid) throws IOException {
        String inode = Long.toString((Long) Files.getAttribute(Path.of("/tmp/hsperfdata_root/" + pid), "unix:ino"));
        String locks = ProcStat.readProcFile(Path.of("/proc/locks"));
        return locks.lines()
                .map(l -> l.replaceFirst("^\\d+:\\s*", ""))
                .filter(l -> l.startsWith("FLOCK") && l.contains(" " + pid + " ") && l.contains(":" + inode + " "))
                .map(l -> l.replace(":" + inode + " ", ":INODE "))
                .findFirst().orElseThrow(() -> new AssertionError("pid " + pid + " holds no flock on its hsperfdata"
                        + " file (inode " + inode + "): " + locks));
    }

    /** @return the program's path; fails (never skips) when it is missing */
    private static String program(String name, String debianPackage) {
        try {
            return Workloads.which(name);
        } catch (IllegalStateException e) {
            throw new AssertionError(name + " is not installed: this test needs it (apt-get install " + debianPackage
                    + "; .ci/run installs it)");
        }
    }

    /** Waits until the main thread sleeps (state S): blocked in its event loop's call. */
    private static void awaitSleeping(Workload w) {
        w.awaitState('S', Workload.TIMEOUT);
    }

    private static long field(String line, String key) {
        Matcher m = Pattern.compile("\\b" + key + "=(\\d+)").matcher(line);
        assertTrue(m.find(), key + " in " + line);
        return Long.parseLong(m.group(1));
    }

    /** One line-protocol request over a unix stream socket. */
    static final class Line {
        static String ask(Path sock, String word) throws IOException {
            try (SocketChannel ch = connect(sock)) {
                ch.write(ByteBuffer.wrap((word + "\n").getBytes(StandardCharsets.UTF_8)));
                return readLine(ch);
            }
        }
    }

    /**
     * Connects to a unix socket, retrying while it refuses: until the restore has rebuilt the listener, the path is
     * the dead original's socket file.
     */
    static SocketChannel connect(Path sock) throws IOException {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(sock));
                return ch;
            } catch (IOException e) {
                ch.close();
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                ProcessControl.sleep(20);
            }
        }
    }

    static String readLine(SocketChannel ch) throws IOException {
        StringBuilder sb = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            one.clear();
            if (ch.read(one) < 0) {
                break;
            }
            char c = (char) one.get(0);
            if (c == '\n') {
                return sb.toString();
            }
            if (c != '\r') {
                sb.append(c);
            }
        }
        throw new AssertionError("no complete line from the server; got '" + sb + "'");
    }

    /** A minimal RESP client: commands as arrays of bulk strings; replies rendered as one line. */
    static final class Resp implements AutoCloseable {
        private final SocketChannel ch;

        private Resp(SocketChannel ch) {
            this.ch = ch;
        }

        static Resp connect(Path sock) throws IOException {
            return new Resp(RealProgramsIT.connect(sock));
        }

        /** @return {@code +OK}, {@code :3}, {@code $LEN value}, {@code $-1}, {@code -ERR ...} */
        String call(String... args) throws IOException {
            StringBuilder sb = new StringBuilder("*").append(args.length).append("\r\n");
            for (String a : args) {
                sb.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
            }
            ByteBuffer out = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
            while (out.hasRemaining()) {
                ch.write(out);
            }
            String head = readLine(ch);
            if (!head.startsWith("$") || head.equals("$-1")) {
                return head;
            }
            int len = Integer.parseInt(head.substring(1));
            ByteBuffer body = ByteBuffer.allocate(len + 2);
            while (body.hasRemaining()) {
                if (ch.read(body) < 0) {
                    throw new AssertionError("redis closed the connection in a reply");
                }
            }
            return head + " " + new String(body.array(), 0, len, StandardCharsets.UTF_8);
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    private static final String ASYNCIO_SERVER = """
            import asyncio, os, sys
            workdir = sys.argv[1]
            sock = os.path.join(workdir, "app.sock")
            state = {"ticks": 0, "served": 0}

            async def periodic():
                while True:
                    await asyncio.sleep(0.1)
                    state["ticks"] += 1
                    print(f"tick {state['ticks']}", flush=True)

            async def handle(reader, writer):
                while True:
                    line = await reader.readline()
                    if not line:
                        break
                    state["served"] += 1
                    writer.write(f"pid={os.getpid()} ticks={state['ticks']} served={state['served']} "
                                 f"echo={line.decode().strip()}\\n".encode())
                    await writer.drain()
                writer.close()

            async def main():
                server = await asyncio.start_unix_server(handle, path=sock)
                asyncio.get_running_loop().create_task(periodic())
                print(f"READY pid={os.getpid()} sock={sock}", flush=True)
                async with server:
                    await server.serve_forever()

            asyncio.run(main())
            """;

    private static final String JVM_SERVER = """
            import com.sun.net.httpserver.HttpServer;
            import java.net.InetSocketAddress;
            import java.nio.charset.StandardCharsets;
            import java.util.concurrent.atomic.AtomicLong;

            public class Server {
                public static void main(String[] args) throws Exception {
                    AtomicLong hits = new AtomicLong();
                    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
                    server.createContext("/", ex -> {
                        byte[] body = ("hits=" + hits.incrementAndGet() + "\\n").getBytes(StandardCharsets.UTF_8);
                        ex.sendResponseHeaders(200, body.length);
                        ex.getResponseBody().write(body);
                        ex.close();
                    });
                    server.start();
                    System.out.println("READY pid=" + ProcessHandle.current().pid() + " port="
                            + server.getAddress().getPort());
                    for (long tick = 1;; tick++) {
                        Thread.sleep(100);
                        System.out.println("tick " + tick);
                    }
                }
            }
            """;

    private static final String NODE_COUNTER = """
            const fs = require('fs');
            const path = require('path');
            const dir = process.argv[2];
            let n = 0;
            setInterval(() => {
              n++;
              fs.writeFileSync(path.join(dir, 'counter'), String(n));
              console.log('tick ' + n);
            }, 100);
            console.log('READY pid=' + process.pid);
            """;
}
