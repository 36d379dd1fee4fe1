/*
 * unix_edges <workdir> [dgramerr]: unix sockets at the edges — bound socket files with their own mode and owner,
 * sockets never connected, and connections whose peer is gone, with and without an error waiting. On SIGUSR2 it
 * checks every one; the first verification only looks (poll, MSG_PEEK, stat), every later one (after a restore)
 * also reads what waits: data, then the error, then EOF.
 *
 *   L   stream listener bound to l.sock (relative), file mode 0640, owner 4321:8765
 *   D   dgram bound to d.sock, file left as bind made it (reverse: mode and owner must not change)
 *   A   stream socket, never bound or connected (recv: EINVAL)
 *   B   stream socket bound to b.sock, not listening (recv: EINVAL, getsockname b.sock)
 *   C   seqpacket socket, never connected (recv: ENOTCONN)
 *   E   stream, peer closed after writing "hi": reads "hi" then EOF, no error (reverse)
 *   F   stream, peer closed with unread data: ECONNRESET waits, then EOF
 *   G   stream, peer wrote "xy" and was closed with unread data: reads "xy", then ECONNRESET, then EOF
 *   H   stream client whose listener was closed before accepting it: ECONNRESET, then EOF
 *   S   seqpacket, peer closed with unread data: ECONNRESET, then EOF
 * With `dgramerr`, a datagram socket also holds an error (its peer disconnected with datagrams of it unread): a dump
 * must refuse it and leave the error in place.
 * Prints `READY pid=<pid> xfd=<dgram fd or -1>`, `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static int L, D, A, B, C, E, F, G, H, S, X = -1;
static unsigned verifications;

static socklen_t addr_of(const char *path, struct sockaddr_un *a) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static void bind_to(int s, const char *path) {
    struct sockaddr_un a;
    socklen_t n = addr_of(path, &a);
    unlink(path);
    if (bind(s, (struct sockaddr *) &a, n) != 0) die(path);
}

static void connect_to(int s, const char *path) {
    struct sockaddr_un a;
    socklen_t n = addr_of(path, &a);
    if (connect(s, (struct sockaddr *) &a, n) != 0) die(path);
}

static short revents(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static int queued(int fd) {
    int n = -1;
    ioctl(fd, FIONREAD, &n);
    return n;
}

static void check_file(struct verdict *v, const char *path, unsigned mode, unsigned uid, unsigned gid) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        fail(v, "%s: %s", path, strerror(errno));
        return;
    }
    if (!S_ISSOCK(st.st_mode)) fail(v, "%s is not a socket", path);
    if ((st.st_mode & 07777) != mode) fail(v, "%s: mode 0%o, not 0%o", path, st.st_mode & 07777, mode);
    if (st.st_uid != uid || st.st_gid != gid)
        fail(v, "%s: owner %u:%u, not %u:%u", path, st.st_uid, st.st_gid, uid, gid);
}

static void check_recv_errno(struct verdict *v, const char *name, int fd, int want) {
    char c;
    if (recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) != -1 || errno != want)
        fail(v, "%s: recv did not fail with %s (%s)", name, strerrorname_np(want), strerror(errno));
}

/* a connection whose peer is gone: `data` waits (may be ""), an error if `err`; reads them all if `consume` */
static void check_gone(struct verdict *v, const char *name, int fd, const char *data, int err, int consume) {
    short ev = revents(fd);
    int len = (int) strlen(data);
    if (!(ev & POLLHUP)) fail(v, "%s: no hang-up (revents 0x%x)", name, ev);
    if (!!(ev & POLLERR) != err) fail(v, "%s: error %s (revents 0x%x)", name, err ? "lost" : "appeared", ev);
    if (queued(fd) != len) fail(v, "%s: %d bytes queued, not %d", name, queued(fd), len);
    if (!consume) return;
    char buf[16];
    if (len > 0) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n != len || memcmp(buf, data, (size_t) len) != 0) fail(v, "%s: read %zd bytes, not \"%s\"", name, n, data);
    }
    if (err) {
        if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) != -1 || errno != ECONNRESET)
            fail(v, "%s: read did not report ECONNRESET", name);
    }
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n != 0) fail(v, "%s: no EOF at the end (%zd, %s)", name, n, n < 0 ? strerror(errno) : "");
}

static unsigned d_mode, d_uid, d_gid;
static int e_done, f_done, g_done, h_done, s_done;

static void check(struct verdict *v) {
    int consume = verifications > 1;
    check_file(v, "l.sock", 0640, 4321, 8765);
    check_file(v, "d.sock", d_mode, d_uid, d_gid);
    int acc = -1;
    socklen_t len = sizeof acc;
    if (getsockopt(L, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) != 0 || acc != 1) fail(v, "L: not listening");
    check_recv_errno(v, "A", A, EINVAL);
    check_recv_errno(v, "B", B, EINVAL);
    check_recv_errno(v, "C", C, ENOTCONN);
    struct sockaddr_un a;
    len = sizeof a;
    if (getsockname(B, (struct sockaddr *) &a, &len) != 0 || strcmp(a.sun_path, "b.sock") != 0)
        fail(v, "B: not bound to b.sock");
    len = sizeof a;
    if (getpeername(B, (struct sockaddr *) &a, &len) != -1 || errno != ENOTCONN) fail(v, "B: has a peer");
    if (getsockopt(B, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) != 0 || acc != 0) fail(v, "B: listening");
    if (!e_done) check_gone(v, "E", E, "hi", 0, consume);
    if (!f_done) check_gone(v, "F", F, "", 1, consume);
    if (!g_done) check_gone(v, "G", G, "xy", 1, consume);
    if (!h_done) check_gone(v, "H", H, "", 1, consume);
    if (!s_done) check_gone(v, "S", S, "", 1, consume);
    if (consume) e_done = f_done = g_done = h_done = s_done = 1;
    if (X >= 0 && !(revents(X) & POLLERR)) fail(v, "X: the datagram socket's error is gone");
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 2, "[dgramerr]");
    signal(SIGPIPE, SIG_IGN);
    int p[2];

    L = socket(AF_UNIX, SOCK_STREAM, 0);
    bind_to(L, "l.sock");
    if (listen(L, 4) != 0) die("listen L");
    if (chown("l.sock", 4321, 8765) != 0 || chmod("l.sock", 0640) != 0) die("chown/chmod l.sock");

    D = socket(AF_UNIX, SOCK_DGRAM, 0);
    bind_to(D, "d.sock");
    struct stat st;
    if (lstat("d.sock", &st) != 0) die("stat d.sock");
    d_mode = st.st_mode & 07777;
    d_uid = st.st_uid;
    d_gid = st.st_gid;

    A = socket(AF_UNIX, SOCK_STREAM, 0);
    B = socket(AF_UNIX, SOCK_STREAM, 0);
    bind_to(B, "b.sock");
    C = socket(AF_UNIX, SOCK_SEQPACKET, 0);

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) != 0) die("socketpair E");
    E = p[0];
    if (write(p[1], "hi", 2) != 2) die("write E");
    close(p[1]);

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) != 0) die("socketpair F");
    F = p[0];
    if (write(F, "z", 1) != 1) die("write F");
    close(p[1]);

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) != 0) die("socketpair G");
    G = p[0];
    if (write(p[1], "xy", 2) != 2 || write(G, "z", 1) != 1) die("write G");
    close(p[1]);

    int hl = socket(AF_UNIX, SOCK_STREAM, 0);
    bind_to(hl, "h.sock");
    if (listen(hl, 1) != 0) die("listen h");
    H = socket(AF_UNIX, SOCK_STREAM, 0);
    connect_to(H, "h.sock");
    close(hl);
    unlink("h.sock");

    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p) != 0) die("socketpair S");
    S = p[0];
    if (write(S, "z", 1) != 1) die("write S");
    close(p[1]);

    if (argc == 3 && strcmp(argv[2], "dgramerr") == 0) {
        int y = socket(AF_UNIX, SOCK_DGRAM, 0);
        X = socket(AF_UNIX, SOCK_DGRAM, 0);
        bind_to(y, "y.sock");
        bind_to(X, "x.sock");
        connect_to(X, "y.sock");
        connect_to(y, "x.sock");
        if (write(X, "d", 1) != 1) die("write X");
        struct sockaddr sa = {AF_UNSPEC};
        if (connect(y, &sa, sizeof sa) != 0) die("disconnect y");
        if (!(revents(X) & POLLERR)) die("no error on X");
    }

    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d xfd=%d", (int) real_getpid(), X);
    pid_t pid = real_getpid();
    unsigned long counter = 0, counter_at_verify = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        verifications++;
        struct verdict v = {0};
        check_pid_and_counter(&v, pid, counter, counter_at_verify);
        check(&v);
        counter_at_verify = counter;
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu verification=%u", (int) pid, counter, verifications);
        report(&v, detail);
    }
}
