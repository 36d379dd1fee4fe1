package dev.cryo.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * A database's own command-line client (psql, mariadb) kept running as one session: statements go to its stdin, one
 * call at a time, and the first line it prints for them comes back (a row, or a command tag). The session is the
 * client's one connection, kept open across a dump and a restore of the server.
 */
final class SqlClient implements AutoCloseable {
    private final Process p;
    private final BufferedReader out;
    private final String name;

    private SqlClient(Process p, String name) {
        this.p = p;
        this.name = name;
        this.out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    }

    /** A psql session over TCP, unaligned tuples only. */
    static SqlClient psql(int port) throws IOException {
        return await(List.of(Workloads.which("psql"), "-X", "-tA", "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-U", "postgres", "postgres"), "psql", port);
    }

    /** A mariadb session over TCP as root: batch mode, no column names, unbuffered (a SELECT must end each call). */
    static SqlClient mariadb(int port) throws IOException {
        return await(List.of(Workloads.which("mariadb"), "--no-defaults", "-h", "127.0.0.1", "-P",
                Integer.toString(port), "-u", "root", "-N", "-B", "-n"), "mariadb", port);
    }

    /** Starts the client until its session answers {@code SELECT 1;} (the server may still be starting), 60 s at most. */
    private static SqlClient await(List<String> cmd, String name, int port) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            SqlClient s = new SqlClient(ProcessControl.registerJdkChild(new ProcessBuilder(cmd)
                    .redirectErrorStream(true).start()), name);
            try {
                if ("1".equals(s.query("SELECT 1;"))) {
                    return s;
                }
            } catch (IOException e) {
                // not accepting connections yet
            }
            s.close();
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the server on port " + port + " accepted no " + name + " session in 60 s");
            }
            ProcessControl.sleep(200);
        }
    }

    /** Sends statements; returns the first line the client prints for them. */
    String query(String sql) throws IOException {
        p.getOutputStream().write((sql + "\n").getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().flush();
        String line = out.readLine();
        if (line == null) {
            throw new IOException(name + " ended");
        }
        return line;
    }

    @Override
    public void close() {
        ProcessControl.destroyAndWait(p);
    }
}
