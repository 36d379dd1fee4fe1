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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * More servers nobody wrote for Cryo, from Debian's packages (installed by {@code .ci/run}), each run as its package
 * runs it, in the foreground, with a client connected across the dump and the restore and checked from outside the
 * way its clients see it: MariaDB (a SQL session, with {@code --file-locks} for its lock files and InnoDB's files made
 * with O_TMPFILE), lighttpd and HAProxy (an HTTP keep-alive connection), Mosquitto (an MQTT subscriber that keeps
 * receiving, a retained message), beanstalkd (a job queued before is reserved after), rsyslog (log lines over one
 * TCP connection, before and after, in its file), Apache httpd, Varnish, unbound and dnsmasq (DNS over UDP; dnsmasq
 * holds a netlink socket), etcd (Go) and Squid.
 */
class PackagedServersIT extends WithTestBed {

    /**
     * MariaDB with InnoDB's native AIO off (with it, MariaDB holds an io_uring ring, which nothing can checkpoint:
     * the dump refuses it naming that setting — {@code DumpIT}), its files locked (--file-locks) and a SQL session
     * kept open across ({@code --tcp-established}); rows written before are read after, on it and on a new one.
     */
    @Test
    void mariadbKeepsItsRowsAndItsSession() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = newDirOpenToOthers("mariadb");
        Path data = dir.resolve("data");
        Path scratch = Files.createDirectories(dir.resolve("run")); // socket, logs, and InnoDB's O_TMPFILE files
        Files.setOwner(scratch, scratch.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("mysql"));
        run(List.of(Workloads.which("mariadb-install-db"), "--no-defaults", "--user=mysql", "--datadir=" + data,
                "--tmpdir=" + scratch, "--auth-root-authentication-method=normal", "--skip-test-db"), dir);
        Workload w = startSbin("mariadbd", dir, "--no-defaults", "--user=mysql", "--datadir=" + data,
                "--socket=" + scratch.resolve("mysqld.sock"), "--port=" + port, "--bind-address=127.0.0.1",
                "--pid-file=" + scratch.resolve("mariadbd.pid"), "--tmpdir=" + scratch, "--innodb-use-native-aio=0",
                "--log-error=" + scratch.resolve("error.log"));
        try (SqlClient session = SqlClient.mariadb(port)) {
            assertEquals("0", session.query("CREATE DATABASE cryo; CREATE TABLE cryo.kept (n INT, s TEXT) "
                    + "ENGINE=InnoDB; SELECT COUNT(*) FROM cryo.kept;"));
            assertEquals("2", session.query("INSERT INTO cryo.kept VALUES (1, 'before'), (2, 'dump'); "
                    + "SELECT ROW_COUNT();"));
            bed.acrossDumpAndRestore(w, r -> {
                assertEquals("2\tbefore,dump", session.query(
                        "SELECT COUNT(*), GROUP_CONCAT(s ORDER BY n) FROM cryo.kept;"), "on the session kept open");
                try (SqlClient fresh = SqlClient.mariadb(port)) {
                    assertEquals("1", fresh.query("INSERT INTO cryo.kept VALUES (3, 'after'); SELECT ROW_COUNT();"));
                    assertEquals("3", fresh.query("SELECT COUNT(*) FROM cryo.kept;"), "on a new connection");
                }
                assertEquals("3", session.query("SELECT COUNT(*) FROM cryo.kept;"));
            }, "--tcp-established", "--file-locks");
        }
    }

    @Test
    void lighttpdServesTheSamePageOnTheSameConnection() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = bed.workloads().newDir("lighttpd");
        Workload w = startLighttpd(dir, port, "<h1>cryo lighttpd</h1>\n",
                "server.errorlog = \"" + dir.resolve("error.log") + "\"", "server.max-keep-alive-idle = 300");
        assertServesAcross(w, port, "<h1>cryo lighttpd</h1>\n");
    }

    @Test
    void haproxyAnswersOnTheSameConnection() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = bed.workloads().newDir("haproxy");
        Files.writeString(dir.resolve("haproxy.cfg"), String.join("\n",
                "global", "    maxconn 64", "defaults", "    mode http", "    timeout client 300s",
                "    timeout server 30s", "    timeout connect 5s", "frontend web", "    bind 127.0.0.1:" + port,
                "    http-request return status 200 content-type text/plain string \"cryo haproxy\"", ""));
        Workload w = startSbin("haproxy", dir, "-db", "-f", dir.resolve("haproxy.cfg").toString());
        assertServesAcross(w, port, "cryo haproxy");
    }

    /**
     * Mosquitto: a subscriber ({@code mosquitto_sub}, outside the tree) connected before the dump receives what is
     * published after the restore, on the same connection; a message retained before is given to a new subscriber.
     */
    @Test
    void mosquittoKeepsItsSubscriberAndItsRetainedMessage() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = bed.workloads().newDir("mosquitto");
        Files.writeString(dir.resolve("mosquitto.conf"), String.join("\n", "listener " + port + " 127.0.0.1",
                "allow_anonymous true", "persistence false", "log_dest stderr", ""));
        Workload w = startSbin("mosquitto", dir, "-c", dir.resolve("mosquitto.conf").toString());
        awaitListening(port);
        run(List.of(Workloads.which("mosquitto_pub"), "-h", "127.0.0.1", "-p", Integer.toString(port), "-t",
                "cryo/retained", "-m", "kept-across-restore", "-r"), dir);
        try (Lines sub = Lines.of(List.of(Workloads.which("mosquitto_sub"), "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-t", "cryo/#", "-v"))) {
            assertEquals("cryo/retained kept-across-restore", sub.next());
            bed.acrossDumpAndRestore(w, r -> {
                run(List.of(Workloads.which("mosquitto_pub"), "-h", "127.0.0.1", "-p", Integer.toString(port), "-t",
                        "cryo/live", "-m", "after-restore"), dir);
                assertEquals("cryo/live after-restore", sub.next(), "the subscriber connected before the dump");
                try (Lines fresh = Lines.of(List.of(Workloads.which("mosquitto_sub"), "-h", "127.0.0.1", "-p",
                        Integer.toString(port), "-t", "cryo/retained", "-v", "-C", "1"))) {
                    assertEquals("cryo/retained kept-across-restore", fresh.next(), "a new subscriber");
                }
            }, "--tcp-established");
        }
    }

    /** beanstalkd: a job put before the dump is reserved and deleted after the restore, on the same connection. */
    @Test
    void beanstalkdKeepsItsQueuedJob() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = bed.workloads().newDir("beanstalkd");
        Workload w = bed.workloads().startCommand("beanstalkd", List.of(Workloads.which("beanstalkd"), "-l",
                "127.0.0.1", "-p", Integer.toString(port)), dir);
        try (RealServersIT.LineClient client = RealServersIT.LineClient.await(port)) {
            String inserted = client.command("put 0 0 120 19\r\nkept-across-restore");
            assertTrue(inserted.startsWith("INSERTED "), inserted);
            String id = inserted.substring("INSERTED ".length());
            bed.acrossDumpAndRestore(w, r -> {
                assertEquals("RESERVED " + id + " 19", client.command("reserve-with-timeout 5"),
                        "on the connection kept open");
                assertEquals("kept-across-restore", client.line());
                assertEquals("DELETED", client.command("delete " + id));
                try (RealServersIT.LineClient fresh = RealServersIT.LineClient.await(port)) {
                    assertTrue(fresh.command("put 0 0 120 3\r\nnew").startsWith("INSERTED "), "on a new connection");
                }
            }, "--tcp-established");
        }
    }

    /** rsyslog (imtcp into a file): lines sent on one TCP connection before the dump and after the restore. */
    @Test
    void rsyslogLogsOnTheSameConnectionAfterRestore() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = bed.workloads().newDir("rsyslog");
        Path log = dir.resolve("messages.log");
        Files.writeString(dir.resolve("rsyslog.conf"), String.join("\n", "module(load=\"imtcp\")",
                "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" + port + "\")",
                "*.* action(type=\"omfile\" file=\"" + log + "\")", ""));
        Workload w = startSbin("rsyslogd", dir, "-n", "-f", dir.resolve("rsyslog.conf").toString(), "-i",
                dir.resolve("rsyslogd.pid").toString());
        awaitListening(port);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            OutputStream out = s.getOutputStream();
            out.write("<13>cryo: before-the-dump\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            awaitLogLine(log, "before-the-dump");
            bed.acrossDumpAndRestore(w, r -> {
                out.write("<13>cryo: after-the-restore\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                awaitLogLine(log, "after-the-restore");
            }, "--tcp-established");
        }
    }

    /** Apache httpd with the event MPM (a master as root, a child of www-data with its worker threads). */
    @Test
    void apacheServesTheSamePageOnTheSameConnection() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = newDirOpenToOthers("apache");
        Files.createDirectories(dir.resolve("html"));
        Files.createDirectories(dir.resolve("logs"));
        Files.writeString(dir.resolve("html/index.html"), "<h1>cryo apache</h1>\n");
        String modules = "/usr/lib/apache2/modules/";
        Files.writeString(dir.resolve("httpd.conf"), String.join("\n", "ServerRoot \"" + dir + "\"",
                "LoadModule mpm_event_module " + modules + "mod_mpm_event.so",
                "LoadModule authz_core_module " + modules + "mod_authz_core.so",
                "LoadModule dir_module " + modules + "mod_dir.so", "Listen 127.0.0.1:" + port,
                "PidFile " + dir.resolve("httpd.pid"), "ErrorLog " + dir.resolve("logs/error.log"),
                "User www-data", "Group www-data", "ServerName localhost", "KeepAliveTimeout 300",
                "DocumentRoot \"" + dir.resolve("html") + "\"", "<Directory \"" + dir.resolve("html") + "\">",
                "  Require all granted", "</Directory>", ""));
        Workload w = startSbin("apache2", dir, "-DFOREGROUND", "-f", dir.resolve("httpd.conf").toString());
        assertServesAcross(w, port, "<h1>cryo apache</h1>\n");
    }

    /** Varnish (a manager and its cache child, 30-odd threads, its shared-memory log) in front of lighttpd. */
    @Test
    void varnishServesThroughTheSameConnection() throws Exception {
        int backend = InetSocketIT.freePort();
        int port = InetSocketIT.freePort();
        Path dir = newDirOpenToOthers("varnish");
        startLighttpd(dir, backend, "<h1>cryo varnish</h1>\n");
        Files.writeString(dir.resolve("default.vcl"), "vcl 4.1;\nbackend default { .host = \"127.0.0.1\"; .port = \""
                + backend + "\"; }\n");
        Workload w = startSbin("varnishd", dir, "-F", "-a", "127.0.0.1:" + port, "-f",
                dir.resolve("default.vcl").toString(), "-n", dir.resolve("varnish").toString(), "-s", "malloc,32m");
        assertServesAcross(w, port, "<h1>cryo varnish</h1>\n", "--file-locks");
    }

    /** unbound, a DNS resolver over UDP (and TCP): it answers the same local record after the restore. */
    @Test
    void unboundAnswersAfterRestore() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = bed.workloads().newDir("unbound");
        Files.writeString(dir.resolve("unbound.conf"), String.join("\n", "server:", "  interface: 127.0.0.1",
                "  port: " + port, "  do-daemonize: no", "  username: \"\"", "  chroot: \"\"", "  use-syslog: no",
                "  pidfile: \"\"", "  do-ip6: no", "  local-zone: \"cryo.test.\" static",
                "  local-data: \"www.cryo.test. IN A 10.9.8.7\"", "remote-control:", "  control-enable: no", ""));
        Workload w = startSbin("unbound", dir, "-d", "-c", dir.resolve("unbound.conf").toString());
        assertAnswersAcross(w, dir, dig(port), "10.9.8.7");
    }

    /** BIND 9's named, an authoritative server for a zone of its own, over UDP. */
    @Test
    void namedAnswersFromItsZoneAfterRestore() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = bed.workloads().newDir("named");
        Files.writeString(dir.resolve("named.conf"), "options { directory \"" + dir + "\"; listen-on port " + port
                + " { 127.0.0.1; }; listen-on-v6 { none; }; pid-file none; recursion no; dnssec-validation no; };\n"
                + "zone \"cryo.test\" { type master; file \"" + dir.resolve("cryo.test.zone") + "\"; };\n");
        Files.writeString(dir.resolve("cryo.test.zone"), String.join("\n", "$TTL 300",
                "@ IN SOA ns.cryo.test. admin.cryo.test. 1 3600 600 86400 300", "@ IN NS ns.cryo.test.",
                "ns IN A 127.0.0.1", "www IN A 10.5.6.7", ""));
        Workload w = startSbin("named", dir, "-g", "-u", "root", "-c", dir.resolve("named.conf").toString());
        assertAnswersAcross(w, dir, dig(port), "10.5.6.7");
    }

    /** PHP-FPM (a master and two workers of www-data), asked over FastCGI by {@code cgi-fcgi} to run a script. */
    @Test
    void phpFpmRunsAScriptAfterRestore() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = newDirOpenToOthers("php-fpm");
        Path script = dir.resolve("index.php");
        Files.writeString(script, "<?php echo \"cryo php \", 6 * 7, \"\\n\";\n");
        Files.writeString(dir.resolve("php-fpm.conf"), String.join("\n", "[global]",
                "pid = " + dir.resolve("php-fpm.pid"), "error_log = " + dir.resolve("php-fpm.log"),
                "daemonize = no", "[www]", "user = www-data", "group = www-data", "listen = 127.0.0.1:" + port,
                "pm = static", "pm.max_children = 2", ""));
        String fpm;
        try (var bins = Files.list(Path.of("/usr/sbin"))) {
            fpm = bins.map(Path::toString).filter(b -> b.matches("/usr/sbin/php-fpm[0-9.]+")).findFirst()
                    .orElseThrow(() -> new AssertionError("no /usr/sbin/php-fpmX.Y: .ci/run installs php-fpm"));
        }
        Workload w = bed.workloads().startCommand(Path.of(fpm).getFileName().toString(), List.of(fpm, "-F", "-y",
                dir.resolve("php-fpm.conf").toString()), dir);
        List<String> fcgi = List.of(Workloads.which("env"), "SCRIPT_FILENAME=" + script, "REQUEST_METHOD=GET",
                Workloads.which("cgi-fcgi"), "-bind", "-connect", "127.0.0.1:" + port);
        assertAnswersAcross(w, dir, fcgi, "cryo php 42");
    }

    /**
     * OpenSSH's sshd: a session without a terminal (an ssh client outside the tree runs a read loop in bash on the
     * server) goes on across the dump and the restore — the listener, the session's privilege-separated sshd and its
     * bash, the TCP connection ({@code --tcp-established}) — and a new login works after.
     */
    @Test
    void sshdKeepsASessionAndLetsANewOneIn() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = bed.workloads().newDir("sshd");
        Workload w = startSshd(dir, port);
        List<String> ssh = sshClient(dir, port, "-T");
        try (Lines session = Lines.of(concat(ssh, "while read l; do echo \"got $l\"; done"))) {
            session.send("before");
            assertEquals("got before", session.next());
            bed.acrossDumpAndRestore(w, r -> {
                session.send("after");
                assertEquals("got after", session.next(), "the session kept across the restore");
                assertEquals("fresh", output(concat(ssh, "echo fresh"), dir), "a new login after the restore");
            }, "--tcp-established");
        }
    }

    /**
     * OpenSSH's sshd with a terminal session ({@code ssh -tt}): an interactive bash on the pseudo-terminal sshd
     * allocated (bash without line editing, so the terminal is in cooked mode and echoes). A partial line, typed and
     * not ended, waits in the terminal across the dump and the restore (the tty plugin keeps queued data); finished
     * after the restore, it runs. The same shell (same {@code $$}) answers commands, and a new login works.
     */
    @Test
    void sshdKeepsATerminalSessionWithAPartialLine() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = bed.workloads().newDir("sshd-tty");
        Workload w = startSshd(dir, port);
        List<String> ssh = sshClient(dir, port, "-tt");
        try (Lines session = Lines.of(concat(ssh, "env PS1='$ ' TERM=dumb " + Workloads.which("bash")
                + " --norc --noprofile --noediting -i"))) {
            session.send("echo pid=$$");
            String pid = session.nextMatching("pid=[0-9]+");
            session.send("echo $((6*7))");
            assertEquals("42", session.nextMatching("[0-9]+"));
            session.sendPartial("echo par");
            Thread.sleep(300); // through the connection into the terminal
            Path image = bed.dumpAndAwaitGone(w, "--tcp-established");
            com.google.protobuf.Struct pty = ShowOutput.unwrap(bed.cryo().show(image).records("tty.img").get(0));
            assertEquals(java.util.Base64.getEncoder().encodeToString("echo par".getBytes(StandardCharsets.UTF_8)),
                    ShowOutput.str(pty, "input"), "the partial line was in the terminal: " + ShowOutput.json(pty));
            RunningCryo rc = bed.cryo().restoreInBackground(image, "--tcp-established");
            Workload r = bed.awaitRestoreDone(rc, w);
            session.send("tial");
            assertEquals("partial", session.nextMatching("partial"), "the partial line kept across the restore");
            session.send("echo $((6*7))");
            assertEquals("42", session.nextMatching("[0-9]+"), "the shell runs commands after the restore");
            session.send("echo pid=$$");
            assertEquals(pid, session.nextMatching("pid=[0-9]+"), "the same shell");
            assertEquals("fresh", output(concat(sshClient(dir, port, "-T"), "echo fresh"), dir),
                    "a new login after the restore");
            TestBed.killRestored(r, rc);
        }
    }

    /** sshd on 127.0.0.1:{@code port}, its host key and root's authorized key (file {@code id}) in {@code dir}. */
    private Workload startSshd(Path dir, int port) throws Exception {
        Files.createDirectories(Path.of("/run/sshd"));   // sshd's privilege separation directory
        run(List.of(Workloads.which("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-f",
                dir.resolve("host").toString()), dir);
        run(List.of(Workloads.which("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-f",
                dir.resolve("id").toString()), dir);
        Files.copy(dir.resolve("id.pub"), dir.resolve("authorized_keys"));
        Files.writeString(dir.resolve("sshd_config"), String.join("\n", "Port " + port, "ListenAddress 127.0.0.1",
                "HostKey " + dir.resolve("host"), "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
                "PermitRootLogin prohibit-password", "PidFile " + dir.resolve("sshd.pid"), "UsePAM no",
                "StrictModes no", ""));
        Workload w = startSbin("sshd", dir, "-D", "-e", "-f", dir.resolve("sshd_config").toString());
        awaitListening(port);
        return w;
    }

    /** The ssh client command for root@127.0.0.1:{@code port} with the key {@code id} of {@code dir}. */
    private static List<String> sshClient(Path dir, int port, String ttyOption) {
        return List.of(Workloads.which("ssh"), ttyOption, "-i", dir.resolve("id").toString(), "-p",
                Integer.toString(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
                "BatchMode=yes", "-o", "LogLevel=ERROR", "root@127.0.0.1");
    }

    /** dnsmasq, a DNS forwarder watching address changes through a NETLINK_ROUTE socket (the netlink plugin). */
    @Test
    void dnsmasqAnswersAfterRestore() throws Exception {
        int port = InetSocketIT.freePort();
        Path dir = bed.workloads().newDir("dnsmasq");
        Workload w = startSbin("dnsmasq", dir, "--keep-in-foreground", "--conf-file=/dev/null", "--port=" + port,
                "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--address=/cryo.test/10.1.2.3", "--user=root", "--pid-file=");
        assertAnswersAcross(w, dir, dig(port), "10.1.2.3");
    }

    /**
     * etcd, a Go program (the Go runtime's threads, epoll and signals; bbolt's mmapped, locked database): a key put
     * before the dump is read after the restore, and a new one is put and read.
     */
    @Test
    void etcdKeepsItsKeys() throws Exception {
        int port = InetSocketIT.freePort();
        int peer = InetSocketIT.freePort();
        Path dir = bed.workloads().newDir("etcd");
        String url = "http://127.0.0.1:" + port;
        Workload w = bed.workloads().startCommand("etcd", List.of(Workloads.which("etcd"), "--data-dir",
                dir.resolve("data").toString(), "--listen-client-urls", url, "--advertise-client-urls", url,
                "--listen-peer-urls", "http://127.0.0.1:" + peer, "--initial-advertise-peer-urls",
                "http://127.0.0.1:" + peer, "--initial-cluster", "default=http://127.0.0.1:" + peer), dir);
        List<String> ctl = List.of(Workloads.which("etcdctl"), "--endpoints=" + url, "--dial-timeout=2s");
        awaitOutput(concat(ctl, "put", "cryo", "kept-across-restore"), dir, "OK");
        bed.acrossDumpAndRestore(w, r -> {
            assertEquals("cryo\nkept-across-restore", output(concat(ctl, "get", "cryo"), dir));
            assertEquals("OK", output(concat(ctl, "put", "after", "restore"), dir));
            assertEquals("after\nrestore", output(concat(ctl, "get", "after"), dir));
        }, "--tcp-established", "--file-locks");
    }

    /** Squid as a forward proxy (its ICMP pinger off: raw ICMP sockets are refused) in front of lighttpd. */
    @Test
    void squidProxiesOnTheSameConnection() throws Exception {
        int backend = InetSocketIT.freePort();
        int port = InetSocketIT.freePort();
        Path dir = newDirOpenToOthers("squid");
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.setOwner(run, run.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("proxy"));
        startLighttpd(dir, backend, "<h1>cryo squid</h1>\n");
        Files.writeString(dir.resolve("squid.conf"), String.join("\n", "http_port 127.0.0.1:" + port,
                "http_access allow all", "cache deny all", "pid_filename " + run.resolve("squid.pid"),
                "access_log none", "cache_log " + run.resolve("cache.log"), "cache_effective_user proxy",
                "pinger_enable off", "client_persistent_connections on", ""));
        Workload w = startSbin("squid", dir, "-N", "-f", dir.resolve("squid.conf").toString());
        awaitListening(port);
        String page = "<h1>cryo squid</h1>\n";
        try (RealServersIT.KeepAlive client = new RealServersIT.KeepAlive(port)) {
            String url = "http://127.0.0.1:" + backend + "/";
            assertEquals(page, client.get(url));
            bed.acrossDumpAndRestore(w, r -> {
                assertEquals(page, client.get(url), "the same proxy connection after restore");
            }, "--tcp-established", "--file-locks");
        }
    }

    // ---- helpers ----

    private static List<String> concat(List<String> head, String... tail) {
        return RealServersIT.concat(head, tail);
    }

    /** @return what {@code cmd} prints (stdout and stderr), trimmed; fails when it exits with a status other than 0 */
    private static String output(List<String> cmd, Path dir) throws IOException, InterruptedException {
        Process p = ProcessControl.registerJdkChild(new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start());
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, p.waitFor(), cmd + " failed: " + out);
        return out;
    }

    /** Runs {@code cmd} until it prints {@code expected} (a server starting up), for up to 30 s. */
    private static void awaitOutput(List<String> cmd, Path dir, String expected) throws Exception {
        awaitOutput(cmd, dir, expected::equals, expected);
    }

    /** Runs {@code cmd} until what it prints ends with {@code expected}, for up to 30 s. */
    private static void awaitOutputEnding(List<String> cmd, Path dir, String expected) throws Exception {
        awaitOutput(cmd, dir, out -> out.endsWith(expected), expected);
    }

    private static void awaitOutput(List<String> cmd, Path dir, java.util.function.Predicate<String> done,
                                    String expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                last = output(cmd, dir);
                if (done.test(last)) {
                    return;
                }
            } catch (AssertionError e) {
                last = e.getMessage();
            }
            ProcessControl.sleep(200);
        }
        throw new AssertionError(cmd + " did not print " + expected + " within 30 s; last: " + last);
    }

    /** One page over one keep-alive connection before the dump and after the restore, and over a new one after. */
    private void assertServesAcross(Workload w, int port, String page, String... options) throws Exception {
        assertEquals(page, InetSocketIT.awaitHttp(port, "/"));
        List<String> opts = concat(List.of("--tcp-established"), options);
        try (RealServersIT.KeepAlive client = new RealServersIT.KeepAlive(port)) {
            assertEquals(page, client.get("/"));
            bed.acrossDumpAndRestore(w, r -> {
                assertEquals(page, client.get("/"), "the same keep-alive connection after restore");
                assertEquals(page, InetSocketIT.awaitHttp(port, "/"), "a new connection after restore");
            }, opts.toArray(String[]::new));
        }
    }

    /**
     * Runs {@code client} until its output ends with {@code answer} (the server is up), dumps {@code w}, restores
     * it, and runs {@code client} once more: the same answer, from outside.
     */
    private void assertAnswersAcross(Workload w, Path dir, List<String> client, String answer) throws Exception {
        awaitOutputEnding(client, dir, answer);
        bed.acrossDumpAndRestore(w, r -> {
            String out = output(client, dir);
            assertTrue(out.endsWith(answer), w.comm() + "'s answer after the restore: " + out);
        });
    }

    /** {@code dig} asking 127.0.0.1:port for www.cryo.test's A record, once, within 2 s. */
    private static List<String> dig(int port) {
        return List.of(Workloads.which("dig"), "+short", "+tries=1", "+time=2", "@127.0.0.1", "-p",
                Integer.toString(port), "www.cryo.test");
    }

    private static void awaitListening(int port) throws IOException {
        RealServersIT.LineClient.await(port).close();
    }

    private static void awaitLogLine(Path log, String text) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.exists(log) || !Files.readString(log).contains(text)) {
            assertTrue(System.nanoTime() < deadline, "rsyslog wrote no line with " + text + " into " + log);
            ProcessControl.sleep(50);
        }
    }

    /**
     * lighttpd in the foreground on 127.0.0.1:{@code port}, serving {@code page} as {@code index.html} of
     * {@code dir}/html, its configuration {@code dir}/lighttpd.conf with the lines {@code more} added.
     */
    private Workload startLighttpd(Path dir, int port, String page, String... more) throws IOException {
        Files.createDirectories(dir.resolve("html"));
        Files.writeString(dir.resolve("html/index.html"), page);
        List<String> conf = concat(List.of("server.document-root = \"" + dir.resolve("html") + "\"",
                "server.port = " + port, "server.bind = \"127.0.0.1\"", "index-file.names = ( \"index.html\" )"),
                more);
        Files.writeString(dir.resolve("lighttpd.conf"), String.join("\n", conf) + "\n");
        return startSbin("lighttpd", dir, "-D", "-f", dir.resolve("lighttpd.conf").toString());
    }

    /** Starts {@code /usr/sbin/PROGRAM ARGS} in {@code dir}, in the foreground as its package runs it. */
    private Workload startSbin(String program, Path dir, String... args) {
        return bed.workloads().startCommand(program, concat(List.of(sbin(program)), args), dir);
    }

    private static String sbin(String program) {
        return RealServersIT.sbin(program);
    }

    private static void run(List<String> cmd, Path dir) throws IOException, InterruptedException {
        RealServersIT.runQuietly(cmd, dir);
    }

    /** The lines a client program prints (a subscriber, a session), read as they come; lines sent to its stdin. */
    static final class Lines implements AutoCloseable {
        private final Process p;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        private Lines(Process p) {
            this.p = p;
            Thread t = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String l = in.readLine(); l != null; l = in.readLine()) {
                        lines.add(l);
                    }
                } catch (IOException e) {
                    // the process ended
                }
            }, "lines of " + p.pid());
            t.setDaemon(true);
            t.start();
        }

        static Lines of(List<String> cmd) throws IOException {
            return new Lines(ProcessControl.registerJdkChild(new ProcessBuilder(cmd).redirectErrorStream(true)
                    .start()));
        }

        void send(String line) throws IOException {
            p.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().flush();
        }

        /** Writes {@code text} without a newline. */
        void sendPartial(String text) throws IOException {
            p.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().flush();
        }

        /**
         * @return the next line that matches {@code regex} whole after any shell prompts {@code "$ "} (the prompt a
         *         terminal session prints may come before a command's output on its line), without them; lines
         *         before it are skipped
         */
        String nextMatching(String regex) throws InterruptedException {
            java.util.regex.Pattern line = java.util.regex.Pattern.compile("(?:\\$ )*(" + regex + ")");
            List<String> skipped = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                String l = lines.poll(1, TimeUnit.SECONDS);
                if (l == null) {
                    continue;
                }
                java.util.regex.Matcher m = line.matcher(l);
                if (m.matches()) {
                    return m.group(1);
                }
                skipped.add(l);
            }
            throw new AssertionError("no line matching " + regex + " from " + p.info().commandLine()
                    .orElse("pid " + p.pid()) + " in 30 s; got " + skipped);
        }

        String next() throws InterruptedException {
            String l = lines.poll(30, TimeUnit.SECONDS);
            if (l == null) {
                throw new AssertionError("no line from " + p.info().commandLine().orElse("pid " + p.pid())
                        + " in 30 s");
            }
            return l;
        }

        @Override
        public void close() {
            ProcessControl.destroyAndWait(p);
        }
    }
}
