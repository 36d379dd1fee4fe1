package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Real servers on loopback (installed by {@code .ci/run} from Debian's packages), each with a client connection open
 * across the dump and the restore ({@code --tcp-established}): nginx (a master and two workers running as
 * {@code nobody}) serves the same page on the same keep-alive connection and on new ones; redis keeps its keys;
 * memcached its items and counters; PostgreSQL its rows and its psql session. {@link PackagedServersIT} has more.
 */
class RealServersIT extends WithTestBed {

    @Test

    void nginxWithAnOpenClientServesTheSamePageAfterRestore() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = newDirOpenToOthers("nginx"); // workers run as nobody
        Files.createDirectories(dir.resolve("html"));
        Files.createDirectories(dir.resolve("tmp"));
        Files.writeString(dir.resolve("html/index.html"), "<h1>cryo nginx</h1>\n");
        Files.writeString(dir.resolve("nginx.conf"), String.join("\n",
                "daemon off;", "master_process on;", "worker_processes 2;", "user nobody nogroup;",
                "pid " + dir.resolve("nginx.pid") + ";", "error_log " + dir.resolve("error.log") + ";",
                "events { worker_connections 64; }",
                "http {", "  access_log " + dir.resolve("access.log") + ";",
                "  client_body_temp_path " + dir.resolve("tmp") + ";", "  proxy_temp_path " + dir.resolve("tmp") + ";",
                "  fastcgi_temp_path " + dir.resolve("tmp") + ";", "  uwsgi_temp_path " + dir.resolve("tmp") + ";",
                "  scgi_temp_path " + dir.resolve("tmp") + ";",
                "  server { listen 127.0.0.1:" + port + "; root " + dir.resolve("html") + "; keepalive_timeout 300s; }",
                "}", ""));
        Workload w = bed.workloads().startCommand("nginx", List.of(sbin("nginx"), "-c",
                dir.resolve("nginx.conf").toString(), "-p", dir.toString()), dir);
        String page = InetSocketIT.awaitHttp(port, "/index.html");
        assertEquals("<h1>cryo nginx</h1>\n", page);
        awaitWorkers(w.pid(), 2);
        try (KeepAlive client = new KeepAlive(port)) {
            assertEquals(page, client.get("/index.html"));
            TestBed.TimedDump dump = bed.timedDump(w, "--tcp-established");
            TestBed.Restoring restore = bed.startRestore(dump.image(), w, "--tcp-established",
                    "--skip-file-size-check");
            Workload r = restore.workload();
            long restoreMs = restore.elapsedMs();
            assertEquals(page, client.get("/index.html"), "the same keep-alive connection after restore");
            assertEquals(page, InetSocketIT.awaitHttp(port, "/index.html"), "a new connection after restore");
            System.out.printf("nginx with an open client: dump %d ms, restore (until the master runs) %d ms%n",
                    dump.ms(), restoreMs);
            TestBed.killRestored(r, restore.cryo());
        }
    }

    @Test

    void redisKeysWrittenBeforeAreReadAfter() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = bed.workloads().newDir("redis");
        Workload w = bed.workloads().startCommand("redis-server", List.of(sbin("redis-server"), "--port",
                Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                dir.toString()), dir);
        try (LineClient client = LineClient.await(port)) {
            assertEquals("+OK", client.command("SET cryo-key kept-across-restore"));
            assertEquals("$19", client.command("GET cryo-key"));
            assertEquals("kept-across-restore", client.line());
            Path image = bed.dumpAndAwaitGone(w, "--tcp-established");
            TestBed.Restoring restore = bed.startRestore(image, w, "--tcp-established", "--skip-file-size-check");
            Workload r = restore.workload();
            assertEquals("$19", client.command("GET cryo-key"), "on the connection open across the restore");
            assertEquals("kept-across-restore", client.line());
            try (LineClient fresh = LineClient.await(port)) {
                assertEquals("$19", fresh.command("GET cryo-key"), "on a new connection");
                assertEquals("kept-across-restore", fresh.line());
            }
            TestBed.killRestored(r, restore.cryo());
        }
    }

    /**
     * memcached (libevent: epoll sets, eventfds and notify pipes per worker thread; runs as nobody) over TCP: an
     * item stored before the dump is read after it on the connection kept open across the restore, a counter goes
     * on, and a new client is served too.
     */
    @Test
    void memcachedKeepsItsItemsAndCounters() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = bed.workloads().newDir("memcached");
        Workload w = bed.workloads().startCommand("memcached", List.of(sbin("memcached"), "-u", "nobody", "-l",
                "127.0.0.1", "-p", Integer.toString(port), "-U", "0", "-t", "4"), dir);
        try (LineClient client = LineClient.await(port)) {   // memcached's text protocol is \r\n lines too
            assertEquals("STORED", client.command("set cryo-item 0 0 19\r\nkept-across-restore"));
            assertEquals("STORED", client.command("set counter 0 0 1\r\n5"));
            assertEquals("6", client.command("incr counter 1"));
            TestBed.TimedDump dump = bed.timedDump(w, "--tcp-established");
            TestBed.Restoring restore = bed.startRestore(dump.image(), w, "--tcp-established");
            Workload r = restore.workload();
            assertEquals("VALUE cryo-item 0 19", client.command("get cryo-item"), "on the connection kept open");
            long restoreMs = restore.elapsedMs();
            assertEquals("kept-across-restore", client.line());
            assertEquals("END", client.line());
            assertEquals("7", client.command("incr counter 1"));
            try (LineClient fresh = LineClient.await(port)) {
                assertEquals("8", fresh.command("incr counter 1"), "on a new connection");
            }
            RealProgramsIT.reportAndKill("memcached", dump, restore, restoreMs);
        }
    }

    /**
     * PostgreSQL (Debian's postgresql package): a postmaster and its checkpointer, background writer, WAL writer and
     * launchers, all running as {@code postgres}, sharing a SysV segment (the sysv-shm plugin) and anonymous shared
     * memory, with a TCP and a unix listener. A psql session stays connected across the dump and the restore
     * ({@code --tcp-established}): rows written before are read after on it, and a new connection (a backend forked by
     * the restored postmaster) writes and reads too.
     */
    @Test
    void postgresKeepsItsRowsAndItsSession() throws Exception {
        String bin = postgresBin();
        int port = InetSocketIT.freePort();
        Path dir = newDirOpenToOthers("postgres");
        var postgres = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
        Files.setOwner(dir, postgres);
        Path data = dir.resolve("data");
        List<String> asPostgres = List.of(Workloads.which("setpriv"), "--reuid=postgres", "--regid=postgres",
                "--init-groups");
        runQuietly(concat(asPostgres, bin + "/initdb", "-D", data.toString(), "-A", "trust", "-U", "postgres",
                "--no-sync"), dir);
        Workload w = bed.workloads().startCommand("postgres", concat(asPostgres, bin + "/postgres", "-D",
                data.toString(), "-k", dir.toString(), "-p", Integer.toString(port), "-c",
                "listen_addresses=127.0.0.1"), dir, "postgres"::equals);
        try (SqlClient session = SqlClient.psql(port)) {
            assertEquals("CREATE TABLE", session.query("CREATE TABLE kept (n int, s text);"));
            assertEquals("INSERT 0 2", session.query("INSERT INTO kept VALUES (1, 'before'), (2, 'dump');"));
            int segment = sysvSegmentOf(w.pid());
            try {
                Path image = bed.dumpAndAwaitGone(w, "--tcp-established");
                TestBed.Restoring restore = bed.startRestore(image, w, "--tcp-established");
                Workload r = restore.workload();
                assertEquals("2|before,dump", session.query(
                        "SELECT count(*), string_agg(s, ',' ORDER BY n) FROM kept;"), "on the session kept open");
                try (SqlClient fresh = SqlClient.psql(port)) {
                    assertEquals("INSERT 0 1", fresh.query("INSERT INTO kept VALUES (3, 'after');"));
                    assertEquals("3", fresh.query("SELECT count(*) FROM kept;"), "on a new connection");
                }
                assertEquals("3", session.query("SELECT count(*) FROM kept;"));
                TestBed.killRestored(r, restore.cryo());
            } finally {
                SysvShmIT.removeWhenUnused(segment);
            }
        }
    }

    // ---- helpers ----

    private static String postgresBin() throws IOException {
        try (var versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("postgres")))
                    .max(java.util.Comparator.naturalOrder()).map(Path::toString)
                    .orElseThrow(() -> new AssertionError("no /usr/lib/postgresql/*/bin/postgres: .ci/run installs "
                            + "Debian's postgresql"));
        }
    }

    static List<String> concat(List<String> head, String... tail) {
        List<String> all = new java.util.ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }

    static void runQuietly(List<String> cmd, Path dir) throws IOException, InterruptedException {
        Path log = dir.resolve("setup.log");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        assertEquals(0, p.waitFor(), cmd + " failed:\n" + Files.readString(log));
    }

    /** @return the shmid of the SysV segment {@code pid} has attached (postgres's interlock segment) */
    private static int sysvSegmentOf(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "maps")).stream()
                .filter(l -> l.contains("/SYSV")).map(l -> Integer.parseInt(l.trim().split("\\s+")[4])).findFirst()
                .orElseThrow(() -> new AssertionError("pid " + pid + " has no SysV segment attached"));
    }

    static String sbin(String program) {
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/sbin")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return Path.of(dir, program).toString();
            }
        }
        return Workloads.which(program);
    }

    private static void awaitWorkers(long master, int n) {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (TestBed.descendantsOf(master).size() < n) {
            assertTrue(System.nanoTime() < deadline, "nginx started no " + n + " workers");
            ProcessControl.sleep(20);
        }
    }

    /** One HTTP/1.1 keep-alive connection. */
    static final class KeepAlive implements AutoCloseable {
        private final Socket s = new Socket();
        private final BufferedReader in;

        KeepAlive(int port) throws IOException {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(60_000);
            in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
        }

        String get(String path) throws IOException {
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String status = in.readLine();
            assertTrue(status != null && status.startsWith("HTTP/1.1 200"), "status " + status);
            int length = -1;
            for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
                if (h.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(h.substring(15).strip());
                }
            }
            char[] body = new char[length];
            int off = 0;
            while (off < length) {
                int r = in.read(body, off, length - off);
                if (r < 0) {
                    throw new IOException("end of stream in the body");
                }
                off += r;
            }
            return new String(body);
        }

        @Override
        public void close() throws IOException {
            s.close();
        }
    }

    /** A connection speaking a CRLF line protocol: redis inline commands, memcached text commands. */
    static final class LineClient implements AutoCloseable {
        private final Socket s;
        private final BufferedReader in;

        private LineClient(Socket s) throws IOException {
            this.s = s;
            s.setSoTimeout(60_000);
            in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        }

        static LineClient await(int port) throws IOException {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (true) {
                Socket s = new Socket();
                try {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                    return new LineClient(s);
                } catch (IOException e) {
                    s.close();
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                    ProcessControl.sleep(50);
                }
            }
        }

        String command(String inline) throws IOException {
            s.getOutputStream().write((inline + "\r\n").getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            return line();
        }

        String line() throws IOException {
            return in.readLine();
        }

        @Override
        public void close() throws IOException {
            s.close();
        }
    }
}
