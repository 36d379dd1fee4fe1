/*
 * unix_gone_dir <workdir>: unix sockets bound under directories that are gone since.
 *
 *   L   stream listener bound to <workdir>/gone/sub/l.sock; then l.sock, sub and gone are removed
 *   C   stream client connected to L before the removal, S the end L accepted (its name is L's)
 *   D   datagram socket bound to <workdir>/moved/d.sock; then moved is renamed moved2 (the old socket file lives on
 *       there, bound to nothing after a restore)
 *   E   datagram socket connected to D before the rename
 * On SIGUSR2 it checks that every name is still the one bound (getsockname), that C and S still talk both ways and E
 * still reaches D, and (reverse) that neither gone nor moved exists on disk, while moved2/d.sock still does.
 * Prints `READY pid=<pid>`, `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

/* sizes growing with each path component, the whole within sun_path's 108 bytes (checked) */
static char gone[160], sub[192], l_path[224], moved[160], moved2[160], d_path[192];

static socklen_t addr_of(const char *path, struct sockaddr_un *a) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path) {
        errno = ENAMETOOLONG;
        die(path);
    }
    strcpy(a->sun_path, path);
    return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static int sock_at(int type, const char *path, int do_listen) {
    int s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (s < 0) die("socket");
    struct sockaddr_un a;
    socklen_t n = addr_of(path, &a);
    if (bind(s, (struct sockaddr *) &a, n) != 0) die(path);
    if (do_listen && listen(s, 4) != 0) die("listen");
    return s;
}

static int connected_to(int type, const char *path) {
    int s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (s < 0) die("socket");
    struct sockaddr_un a;
    socklen_t n = addr_of(path, &a);
    if (connect(s, (struct sockaddr *) &a, n) != 0) die(path);
    return s;
}

static void check_name(struct verdict *v, const char *what, int fd, const char *want) {
    struct sockaddr_un a;
    socklen_t n = sizeof a;
    memset(&a, 0, sizeof a);
    if (getsockname(fd, (struct sockaddr *) &a, &n) != 0) {
        fail(v, "getsockname(%s): %s", what, strerror(errno));
    } else if (n <= offsetof(struct sockaddr_un, sun_path) || strcmp(a.sun_path, want) != 0) {
        fail(v, "%s is bound to '%s', not '%s'", what, a.sun_path, want);
    }
}

/* Sends `msg` on `from`, reads it on `to`. */
static void check_talk(struct verdict *v, const char *what, int from, int to, const char *msg) {
    char buf[64] = {0};
    size_t len = strlen(msg);
    if (send(from, msg, len, MSG_DONTWAIT) != (ssize_t) len) {
        fail(v, "%s: send: %s", what, strerror(errno));
        return;
    }
    ssize_t r = -1;
    for (int i = 0; i < 200 && r < 0; i++) {
        r = recv(to, buf, sizeof buf - 1, MSG_DONTWAIT);
        if (r < 0 && errno == EAGAIN) sleep_ms(5);
        else if (r < 0) break;
    }
    if (r != (ssize_t) len || memcmp(buf, msg, len) != 0) {
        fail(v, "%s: received %zd bytes '%s', not '%s' (%s)", what, r, r > 0 ? buf : "", msg,
             r < 0 ? strerror(errno) : "");
    }
}

static void check_absent(struct verdict *v, const char *path) {
    struct stat st;
    if (lstat(path, &st) == 0) fail(v, "%s exists", path);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <workdir>\n", argv[0]);
        return 2;
    }
    char real[PATH_MAX], wd[128];
    if (!realpath(argv[1], real)) die("realpath(workdir)");
    if (strlen(real) > 80) {
        errno = ENAMETOOLONG;
        die("workdir");
    }
    strcpy(wd, real);
    snprintf(gone, sizeof gone, "%s/gone", wd);
    snprintf(sub, sizeof sub, "%s/sub", gone);
    snprintf(l_path, sizeof l_path, "%s/l.sock", sub);
    snprintf(moved, sizeof moved, "%s/moved", wd);
    snprintf(moved2, sizeof moved2, "%s/moved2", wd);
    snprintf(d_path, sizeof d_path, "%s/d.sock", moved);
    if (mkdir(gone, 0755) != 0 || mkdir(sub, 0755) != 0 || mkdir(moved, 0755) != 0) die("mkdir");
    install(SIGUSR2, on_verify_signal);

    int L = sock_at(SOCK_STREAM, l_path, 1);
    int C = connected_to(SOCK_STREAM, l_path);
    int S = accept4(L, NULL, NULL, SOCK_CLOEXEC);
    if (S < 0) die("accept");
    int D = sock_at(SOCK_DGRAM, d_path, 0);
    int E = connected_to(SOCK_DGRAM, d_path);
    if (unlink(l_path) != 0 || rmdir(sub) != 0 || rmdir(gone) != 0) die("remove gone/sub/l.sock");
    if (rename(moved, moved2) != 0) die("rename moved");
    char old_d[192];
    snprintf(old_d, sizeof old_d, "%s/d.sock", moved2);
    say("READY pid=%d", (int) real_getpid());

    unsigned long counter = 0, verifies = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        check_name(&v, "listener", L, l_path);
        check_name(&v, "accepted end", S, l_path);
        check_name(&v, "datagram socket", D, d_path);
        check_talk(&v, "client to accepted end", C, S, "ping");
        check_talk(&v, "accepted end to client", S, C, "pong");
        check_talk(&v, "datagram to the socket of the renamed directory", E, D, "dgram");
        check_absent(&v, gone);
        check_absent(&v, moved);
        struct stat st;
        if (lstat(old_d, &st) != 0 || !S_ISSOCK(st.st_mode)) fail(&v, "%s is gone or not a socket", old_d);
        verifies++;
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu verifies=%lu", (int) real_getpid(), counter, verifies);
        report(&v, detail);
    }
}
