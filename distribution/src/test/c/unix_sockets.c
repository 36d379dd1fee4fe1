/*
 * unix_sockets <workdir> [local|external|tree]: a workload holding AF_UNIX sockets of every kind.
 *
 * local (default), one process:
 *   - stream, dgram and seqpacket socketpairs with data queued both ways (dgram: one record larger than 8 KiB);
 *   - a stream socketpair shut down for writing by one end after queuing "last";
 *   - a server listening at <workdir>/srv.sock with one accepted connection (data queued both ways) and one
 *     pending connection (the client sent nothing);
 *   - an abstract-namespace server "\0cryo-abs-<pid>" with a connected client (data both ways);
 *   - a dgram server at <workdir>/dg.sock with datagrams queued from an unnamed and from an abstract-named client;
 *   - options: SO_SNDBUF on one end, SO_PASSCRED on another, O_NONBLOCK on a third.
 *   The first verify (after restore) reads every queue and checks content, order, boundaries, sender names,
 *   getsockname/getpeername recorded at setup, options, and that a brand-new client can connect to srv.sock after
 *   the pending one is accepted. Every verify also runs a round trip through each pair.
 * external: a client connected to a stream server at <workdir>/ext.sock run by a helper process OUTSIDE the tree
 *   (double fork; its pid is printed as helper=<pid>, the test must kill it); each tick sends "ping N", the helper
 *   echoes it; verify checks that echoes keep coming.
 * tree: parent and child (fork) sharing a stream and a dgram socketpair, data queued both ways; only the parent
 *   reports (needs process trees in cryo).
 * Prints `READY pid=<pid> ...`; on SIGUSR2 `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#define BIG 10000

static socklen_t mkaddr(struct sockaddr_un *a, const char *name, int abstract) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    size_t n = strlen(name);
    if (abstract) {
        memcpy(a->sun_path + 1, name, n);
        return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + n);
    }
    memcpy(a->sun_path, name, n);
    return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + 1);
}

/* "path", "@abstract" or "unnamed" */
static void show(const struct sockaddr_un *a, socklen_t len, char *out, size_t cap) {
    size_t n = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
    if (n == 0) { snprintf(out, cap, "unnamed"); return; }
    if (a->sun_path[0] == 0) { snprintf(out, cap, "@%.*s", (int) (n - 1), a->sun_path + 1); return; }
    snprintf(out, cap, "%s", a->sun_path);
}

static void names(int fd, char *out, size_t cap) {
    struct sockaddr_un a; socklen_t l = sizeof a;
    char s[200] = "?", p[200] = "?";
    if (getsockname(fd, (struct sockaddr *) &a, &l) == 0) show(&a, l, s, sizeof s);
    l = sizeof a;
    if (getpeername(fd, (struct sockaddr *) &a, &l) == 0) show(&a, l, p, sizeof p);
    else snprintf(p, sizeof p, "none");
    snprintf(out, cap, "%s<->%s", s, p);
}

static int sendall(int fd, const void *b, size_t n) { return send(fd, b, n, 0) == (ssize_t) n ? 0 : -1; }

/* Reads exactly n bytes of a stream (non-blocking sockets allowed: waits a little). */
static int readn(int fd, char *b, size_t n) {
    size_t got = 0;
    for (int spins = 0; got < n && spins < 2000; spins++) {
        ssize_t r = recv(fd, b + got, n - got, MSG_DONTWAIT);
        if (r > 0) { got += (size_t) r; continue; }
        if (r == 0) return -1;
        if (errno != EAGAIN && errno != EINTR) return -1;
        usleep(1000);
    }
    return got == n ? 0 : -1;
}

static void expect_stream(struct verdict *v, int fd, const char *what, const char *want) {
    char buf[256] = {0};
    size_t n = strlen(want);
    if (readn(fd, buf, n) != 0 || memcmp(buf, want, n) != 0) fail(v, "%s: expected '%s' got '%.*s'", what, want, (int) n, buf);
}

static void expect_record(struct verdict *v, int fd, const char *what, const char *want, const char *from) {
    char buf[256];
    struct sockaddr_un a; socklen_t l = sizeof a;
    ssize_t r = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *) &a, &l);
    if (r < 0) { fail(v, "%s: no record (%s), expected '%s'", what, strerror(errno), want); return; }
    if ((size_t) r != strlen(want) || memcmp(buf, want, (size_t) r) != 0) fail(v, "%s: expected '%s' got '%.*s'", what, want, (int) r, buf);
    if (from) {
        char s[200]; show(&a, l, s, sizeof s);
        if (strcmp(s, from) != 0) fail(v, "%s: sender '%s', expected '%s'", what, s, from);
    }
}

static void expect_eof(struct verdict *v, int fd, const char *what) {
    char c;
    ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT);
    if (r != 0) fail(v, "%s: expected EOF, got %zd (%s)", what, r, r < 0 ? strerror(errno) : "data");
}

static int getint(int fd, int opt) { int x = -1; socklen_t l = sizeof x; getsockopt(fd, SOL_SOCKET, opt, &x, &l); return x; }

/* a round trip a -> b on a stream or seqpacket/dgram pair */
static void roundtrip(struct verdict *v, int a, int b, const char *what, unsigned long n) {
    char m[64], back[64];
    int len = snprintf(m, sizeof m, "rt-%s-%lu", what, n);
    if (send(a, m, (size_t) len, MSG_DONTWAIT) != len) { fail(v, "roundtrip %s send: %s", what, strerror(errno)); return; }
    if (readn(b, back, (size_t) len) != 0 || memcmp(m, back, (size_t) len) != 0) fail(v, "roundtrip %s: lost", what);
}

static int run_external(void) {
    pid_t mid = fork();
    if (mid < 0) die("fork");
    if (mid == 0) {
        pid_t h = fork();
        if (h != 0) _exit(h < 0);
        int l = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a; socklen_t al = mkaddr(&a, "ext.sock", 0);
        unlink("ext.sock");
        if (l < 0 || bind(l, (struct sockaddr *) &a, al) != 0 || listen(l, 4) != 0) _exit(1);
        FILE *f = fopen("helper.pid", "w");
        if (!f) _exit(1);
        fprintf(f, "%d\n", (int) real_getpid());
        fclose(f);
        for (;;) {
            int c = accept(l, NULL, NULL);
            if (c < 0) continue;
            char buf[256];
            ssize_t r;
            while ((r = recv(c, buf, sizeof buf, 0)) > 0) send(c, buf, (size_t) r, MSG_NOSIGNAL);
            close(c);
        }
    }
    int st;
    waitpid(mid, &st, 0);
    int helper = 0;
    for (int i = 0; i < 2000 && helper == 0; i++) {
        FILE *f = fopen("helper.pid", "r");
        if (f) { if (fscanf(f, "%d", &helper) != 1) helper = 0; fclose(f); }
        if (!helper) usleep(1000);
    }
    if (!helper) die("helper pid");
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a; socklen_t al = mkaddr(&a, "ext.sock", 0);
    int ok = -1;
    for (int i = 0; i < 2000 && ok != 0; i++) { ok = connect(c, (struct sockaddr *) &a, al); if (ok) usleep(1000); }
    if (ok) die("connect(ext.sock)");
    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d fd=%d helper=%d", (int) real_getpid(), c, helper);
    unsigned long counter = 0, echoes = 0, at_verify = 0;
    for (;;) {
        counter++;
        char m[64], back[64];
        int n = snprintf(m, sizeof m, "ping %08lu", counter);
        if (send(c, m, (size_t) n, MSG_NOSIGNAL) == n && readn(c, back, (size_t) n) == 0 && memcmp(m, back, (size_t) n) == 0) echoes++;
        say("tick %lu", counter);
        sleep_ms(100);
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;
        struct verdict v = {0};
        if (echoes <= at_verify) fail(&v, "no echo from the server since the last verify");
        if (echoes != counter) fail(&v, "%lu of %lu pings echoed", echoes, counter);
        at_verify = echoes;
        char d[128]; snprintf(d, sizeof d, "pid=%d counter=%lu echoes=%lu", (int) real_getpid(), counter, echoes);
        report(&v, d);
    }
}

static int run_tree(void) {
    int s[2], d[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) || socketpair(AF_UNIX, SOCK_DGRAM, 0, d)) die("socketpair");
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        close(s[0]); close(d[0]);
        sendall(s[1], "from-child", 10);
        send(d[1], "dg-child", 8, 0);
        for (;;) {  /* echo loop, after the parent's verify round trips */
            char b[128];
            ssize_t r = recv(s[1], b, sizeof b, 0);
            if (r <= 0) _exit(0);
            send(s[1], b, (size_t) r, MSG_NOSIGNAL);
        }
    }
    close(s[1]); close(d[1]);
    sendall(s[0], "", 0);
    send(d[0], "dg-parent", 9, 0);
    usleep(100000);
    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d child=%d", (int) real_getpid(), (int) child);
    unsigned long counter = 0;
    int first = 1;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (first) {
            expect_stream(&v, s[0], "child->parent stream", "from-child");
            expect_record(&v, d[0], "child->parent dgram", "dg-child", NULL);
            first = 0;
        }
        char m[32], back[32];
        int n = snprintf(m, sizeof m, "echo-%lu", counter);
        if (send(s[0], m, (size_t) n, 0) != n || readn(s[0], back, (size_t) n) != 0 || memcmp(m, back, (size_t) n)) fail(&v, "echo through the child");
        char dd[128]; snprintf(dd, sizeof dd, "pid=%d counter=%lu", (int) real_getpid(), counter);
        report(&v, dd);
    }
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) { fprintf(stderr, "usage: %s <workdir> [local|external|tree]\n", argv[0]); return 2; }
    if (chdir(argv[1]) != 0) die("chdir(workdir)");
    const char *mode = argc == 3 ? argv[2] : "local";
    if (strcmp(mode, "external") == 0) return run_external();
    if (strcmp(mode, "tree") == 0) return run_tree();

    int sp[2], dp[2], qp[2], shp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dp)
        || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, qp) || socketpair(AF_UNIX, SOCK_STREAM, 0, shp)) die("socketpair");
    /* stream: bytes both ways */
    sendall(sp[0], "s-a1", 4); sendall(sp[0], "s-a2", 4); sendall(sp[1], "s-b1", 4);
    /* dgram: records both ways, one larger than the 8 KiB scratch area */
    static char big[BIG];
    for (int i = 0; i < BIG; i++) big[i] = (char) ('a' + i % 23);
    send(dp[0], "d1", 2, 0); send(dp[0], big, BIG, 0); send(dp[0], "dgram-three", 11, 0); send(dp[1], "back", 4, 0);
    /* seqpacket: records */
    send(qp[0], "q1", 2, 0); send(qp[0], "q22", 3, 0); send(qp[0], "q333", 4, 0); send(qp[1], "r1", 2, 0);
    /* shutdown */
    sendall(shp[0], "last", 4); shutdown(shp[0], SHUT_WR);
    /* options */
    int sndbuf = 65536, one = 1;
    if (setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf)) die("SO_SNDBUF");
    if (setsockopt(dp[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one)) die("SO_PASSCRED");
    fcntl(sp[1], F_SETFL, fcntl(sp[1], F_GETFL) | O_NONBLOCK);
    int want_sndbuf = getint(sp[0], SO_SNDBUF);

    /* path server: one accepted, one pending */
    struct sockaddr_un a; socklen_t al;
    unlink("srv.sock");
    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    al = mkaddr(&a, "srv.sock", 0);
    char cwd[200]; if (!getcwd(cwd, sizeof cwd)) die("getcwd");
    char srvpath[256]; snprintf(srvpath, sizeof srvpath, "%s/srv.sock", cwd);
    al = mkaddr(&a, srvpath, 0);
    if (bind(srv, (struct sockaddr *) &a, al) || listen(srv, 8)) die("bind/listen srv.sock");
    int c1 = socket(AF_UNIX, SOCK_STREAM, 0), c2 = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(c1, (struct sockaddr *) &a, al)) die("connect c1");
    int a1 = accept(srv, NULL, NULL);
    if (a1 < 0) die("accept");
    if (connect(c2, (struct sockaddr *) &a, al)) die("connect c2");
    sendall(c1, "hello-from-client", 17); sendall(a1, "hello-from-server", 17);
    /* abstract server */
    char absname[64]; snprintf(absname, sizeof absname, "cryo-abs-%d", (int) real_getpid());
    int asrv = socket(AF_UNIX, SOCK_STREAM, 0);
    al = mkaddr(&a, absname, 1);
    if (bind(asrv, (struct sockaddr *) &a, al) || listen(asrv, 4)) die("bind/listen abstract");
    int c3 = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(c3, (struct sockaddr *) &a, al)) die("connect c3");
    int a3 = accept(asrv, NULL, NULL);
    if (a3 < 0) die("accept abstract");
    sendall(c3, "abs-up", 6); sendall(a3, "abs-down", 8);
    /* dgram server with two senders */
    unlink("dg.sock");
    int dsrv = socket(AF_UNIX, SOCK_DGRAM, 0);
    al = mkaddr(&a, "dg.sock", 0);
    if (bind(dsrv, (struct sockaddr *) &a, al)) die("bind dg.sock");
    int dc1 = socket(AF_UNIX, SOCK_DGRAM, 0), dc2 = socket(AF_UNIX, SOCK_DGRAM, 0);
    char dc2name[64]; snprintf(dc2name, sizeof dc2name, "cryo-dgc-%d", (int) real_getpid());
    struct sockaddr_un b; socklen_t bl = mkaddr(&b, dc2name, 1);
    if (bind(dc2, (struct sockaddr *) &b, bl)) die("bind dc2");
    if (sendto(dc1, "anon-1", 6, 0, (struct sockaddr *) &a, al) != 6) die("sendto dc1");
    if (connect(dc2, (struct sockaddr *) &a, al)) die("connect dc2");
    if (send(dc2, "named-2", 7, 0) != 7) die("send dc2");
    if (sendto(dc1, "anon-3", 6, 0, (struct sockaddr *) &a, al) != 6) die("sendto dc1 again");
    char want_dc2[80]; snprintf(want_dc2, sizeof want_dc2, "@%s", dc2name);

    char n_a1[600], n_c1[600], n_a3[600], n_c3[600], n_dc2[600];
    names(a1, n_a1, sizeof n_a1); names(c1, n_c1, sizeof n_c1); names(a3, n_a3, sizeof n_a3);
    names(c3, n_c3, sizeof n_c3); names(dc2, n_dc2, sizeof n_dc2);

    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d srv=%d a1=%d c1=%d c2=%d names_a1=%s names_c1=%s names_a3=%s names_c3=%s", (int) real_getpid(), srv, a1, c1, c2, n_a1, n_c1, n_a3, n_c3);

    unsigned long counter = 0, at_verify = 0;
    int first = 1;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (first) {
            first = 0;
            char now[600];
            names(a1, now, sizeof now); if (strcmp(now, n_a1)) fail(&v, "accepted names %s, were %s", now, n_a1);
            names(c1, now, sizeof now); if (strcmp(now, n_c1)) fail(&v, "client names %s, were %s", now, n_c1);
            names(a3, now, sizeof now); if (strcmp(now, n_a3)) fail(&v, "abstract accepted names %s, were %s", now, n_a3);
            names(c3, now, sizeof now); if (strcmp(now, n_c3)) fail(&v, "abstract client names %s, were %s", now, n_c3);
            names(dc2, now, sizeof now); if (strcmp(now, n_dc2)) fail(&v, "dgram client names %s, were %s", now, n_dc2);
            expect_stream(&v, sp[1], "stream a->b", "s-a1s-a2");
            expect_stream(&v, sp[0], "stream b->a", "s-b1");
            expect_record(&v, dp[1], "dgram 1", "d1", NULL);
            {
                static char got[BIG + 10];
                ssize_t r = recv(dp[1], got, sizeof got, MSG_DONTWAIT);
                if (r != BIG || memcmp(got, big, BIG) != 0) fail(&v, "big dgram: %zd bytes, expected %d intact", r, BIG);
            }
            expect_record(&v, dp[1], "dgram 3", "dgram-three", NULL);
            expect_record(&v, dp[0], "dgram back", "back", NULL);
            expect_record(&v, qp[1], "seqpacket 1", "q1", NULL);
            expect_record(&v, qp[1], "seqpacket 2", "q22", NULL);
            expect_record(&v, qp[1], "seqpacket 3", "q333", NULL);
            expect_record(&v, qp[0], "seqpacket back", "r1", NULL);
            expect_stream(&v, shp[1], "shutdown queue", "last");
            expect_eof(&v, shp[1], "shut-down stream");
            if (send(shp[0], "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != -1 || errno != EPIPE) fail(&v, "send after SHUT_WR did not fail with EPIPE");
            expect_stream(&v, a1, "client->server", "hello-from-client");
            expect_stream(&v, c1, "server->client", "hello-from-server");
            expect_stream(&v, a3, "abstract up", "abs-up");
            expect_stream(&v, c3, "abstract down", "abs-down");
            expect_record(&v, dsrv, "dgram server 1", "anon-1", "unnamed");
            expect_record(&v, dsrv, "dgram server 2", "named-2", want_dc2);
            expect_record(&v, dsrv, "dgram server 3", "anon-3", "unnamed");
            if (getint(sp[0], SO_SNDBUF) != want_sndbuf) fail(&v, "SO_SNDBUF %d, was %d", getint(sp[0], SO_SNDBUF), want_sndbuf);
            if (getint(dp[0], SO_PASSCRED) != 1) fail(&v, "SO_PASSCRED lost");
            if (!(fcntl(sp[1], F_GETFL) & O_NONBLOCK)) fail(&v, "O_NONBLOCK lost");
            if (fcntl(sp[0], F_GETFL) & O_NONBLOCK) fail(&v, "O_NONBLOCK appeared");
            if (getint(srv, SO_ACCEPTCONN) != 1) fail(&v, "srv.sock is not listening");
            /* the pending connection is accepted first, then a brand-new client */
            int p = accept4(srv, NULL, NULL, SOCK_NONBLOCK);
            if (p < 0) fail(&v, "pending connection lost: %s", strerror(errno));
            else { roundtrip(&v, c2, p, "pending", counter); close(p); }
            int nc = socket(AF_UNIX, SOCK_STREAM, 0);
            al = mkaddr(&a, srvpath, 0);
            if (connect(nc, (struct sockaddr *) &a, al)) fail(&v, "new client cannot connect to srv.sock: %s", strerror(errno));
            else {
                int na = accept(srv, NULL, NULL);
                if (na < 0) fail(&v, "accept new client: %s", strerror(errno));
                else { roundtrip(&v, nc, na, "new-client", counter); close(na); }
            }
            close(nc);
        }
        roundtrip(&v, sp[0], sp[1], "stream", counter);
        roundtrip(&v, dp[1], dp[0], "dgram", counter);
        roundtrip(&v, qp[0], qp[1], "seqpacket", counter);
        roundtrip(&v, c1, a1, "accepted", counter);
        roundtrip(&v, a3, c3, "abstract", counter);
        if (counter <= at_verify) fail(&v, "counter did not advance");
        at_verify = counter;
        char d[128]; snprintf(d, sizeof d, "pid=%d counter=%lu", (int) real_getpid(), counter);
        report(&v, d);
    }
}
