/*
 * extsk_server <workdir> dgram|stream PATH: a server OUTSIDE the dumped tree for the external-unix-socket tests (the
 * test starts it as a workload of its own; it is never dumped).
 *
 * dgram: a syslog-like receiver bound to PATH; prints `READY pid=<pid> ino=<socket inode>`, then one line
 *   `got <payload> from <sender name>` per datagram (payloads are single lines).
 * stream: listens at PATH; prints `READY pid=<pid> ino=<listener inode>`; for every accepted connection K (from 1)
 *   `accepted K ino=<inode of the accepted socket>`, appends everything read from it to <workdir>/conn-K.bin, and
 *   prints `closed K bytes=<n>` at end-of-file. Connections are served concurrently (poll).
 */
#include "workload.h"

#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define MAXC 32

static _Noreturn void run_dgram(const char *path) {
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a;
    socklen_t al = unix_path_addr(&a, path);
    unlink(path);
    if (s < 0 || bind(s, (struct sockaddr *) &a, al) != 0) die("bind");
    say("READY pid=%d ino=%ld", (int) real_getpid(), ino_of(s));
    for (;;) {
        char buf[4096];
        struct sockaddr_un from;
        socklen_t fl = sizeof from;
        memset(&from, 0, sizeof from);
        ssize_t n = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *) &from, &fl);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("recvfrom");
        }
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == 0)) n--;
        buf[n] = 0;
        const char *sender = fl > offsetof(struct sockaddr_un, sun_path) && from.sun_path[0] ? from.sun_path : "unnamed";
        say("got %s from %s", buf, sender);
    }
}

static _Noreturn void run_stream(const char *path) {
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    socklen_t al = unix_path_addr(&a, path);
    unlink(path);
    if (l < 0 || bind(l, (struct sockaddr *) &a, al) != 0 || listen(l, 8) != 0) die("bind/listen");
    say("READY pid=%d ino=%ld", (int) real_getpid(), ino_of(l));
    struct pollfd p[MAXC + 1];
    int out[MAXC + 1], id[MAXC + 1];
    long bytes[MAXC + 1];
    int n = 1, next = 1;
    p[0].fd = l;
    p[0].events = POLLIN;
    for (;;) {
        if (poll(p, (nfds_t) n, -1) < 0) {
            if (errno == EINTR) continue;
            die("poll");
        }
        for (int i = n - 1; i >= 1; i--) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            ssize_t r = recv(p[i].fd, buf, sizeof buf, 0);
            if (r > 0) {
                if (write(out[i], buf, (size_t) r) != r) die("write conn file");
                bytes[i] += r;
                continue;
            }
            if (r < 0 && errno == EINTR) continue;
            say("closed %d bytes=%ld", id[i], bytes[i]);
            close(p[i].fd);
            close(out[i]);
            p[i] = p[n - 1]; out[i] = out[n - 1]; id[i] = id[n - 1]; bytes[i] = bytes[n - 1];
            n--;
        }
        if ((p[0].revents & POLLIN) && n <= MAXC) {
            int c = accept(l, NULL, NULL);
            if (c < 0) continue;
            char name[64];
            snprintf(name, sizeof name, "conn-%d.bin", next);
            int f = open(name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (f < 0) die("open conn file");
            p[n].fd = c; p[n].events = POLLIN; out[n] = f; id[n] = next; bytes[n] = 0;
            n++;
            say("accepted %d ino=%ld", next++, ino_of(c));
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s <workdir> dgram|stream PATH\n", argv[0]); return 2; }
    if (chdir(argv[1]) != 0) die("chdir(workdir)");
    if (strcmp(argv[2], "dgram") == 0) run_dgram(argv[3]);
    if (strcmp(argv[2], "stream") == 0) run_stream(argv[3]);
    fprintf(stderr, "unknown mode %s\n", argv[2]);
    return 2;
}
