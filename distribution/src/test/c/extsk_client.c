/*
 * extsk_client <workdir> MODE ...: a client IN the dumped tree whose unix sockets lead OUTSIDE it.
 *
 * dgram PATH [PATH2]: one datagram socket per path, the first bound to <workdir>/client.sock, each connect()ed to its
 *   path (extsk_server dgram); every tick sends `rec N` on each.
 * stream PATH: one stream socket connected to PATH (extsk_server stream); every tick writes the record `rec N\n`
 *   (N as 8 digits).
 * pair: one end of a datagram socketpair whose other end a helper holds OUTSIDE the tree (double fork; its pid is
 *   printed as helper=<pid>, the test must kill it); every tick sends `rec N` to it.
 *
 * Prints `READY pid=<pid> fd=<fd of the first socket> ino=<its inode> [helper=<pid>]` and `tick N` per round (50 ms);
 * on SIGUSR2 `VERDICT PASS pid=<pid> sent=<N>` when every send so far succeeded, else `VERDICT FAIL`.
 */
#include "workload.h"

#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

static int connect_to(int type, const char *path, const char *own) {
    int s = socket(AF_UNIX, type, 0);
    if (s < 0) die("socket");
    struct sockaddr_un a;
    if (own) {
        socklen_t ol = unix_path_addr(&a, own);
        unlink(own);
        if (bind(s, (struct sockaddr *) &a, ol) != 0) die("bind(own name)");
    }
    socklen_t al = unix_path_addr(&a, path);
    if (connect(s, (struct sockaddr *) &a, al) != 0) die("connect");
    return s;
}

/* The other end of a socketpair, held by a grandchild that is reparented away from this tree. */
static int pair_with_outsider(int *helper) {
    int d[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, d) != 0) die("socketpair");
    pid_t mid = fork();
    if (mid < 0) die("fork");
    if (mid == 0) {
        pid_t h = fork();
        if (h != 0) _exit(h < 0);
        close(d[0]);
        setsid();
        FILE *f = fopen("helper.pid", "w");
        if (!f) _exit(1);
        fprintf(f, "%d\n", (int) real_getpid());
        fclose(f);
        char buf[256];
        for (;;) if (recv(d[1], buf, sizeof buf, 0) < 0 && errno != EINTR) _exit(0);
    }
    close(d[1]);
    int st;
    waitpid(mid, &st, 0);
    *helper = 0;
    for (int i = 0; i < 2000 && *helper == 0; i++) {
        FILE *f = fopen("helper.pid", "r");
        if (f) { if (fscanf(f, "%d", helper) != 1) *helper = 0; fclose(f); }
        if (!*helper) usleep(1000);
    }
    if (!*helper) die("helper pid");
    return d[0];
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s <workdir> dgram PATH [PATH2] | stream PATH | pair\n", argv[0]); return 2; }
    if (chdir(argv[1]) != 0) die("chdir(workdir)");
    const char *mode = argv[2];
    int fds[2], nfds = 0, stream = 0, helper = 0;
    if (strcmp(mode, "dgram") == 0 && (argc == 4 || argc == 5)) {
        char own[300];
        snprintf(own, sizeof own, "%s/client.sock", argv[1]);
        fds[nfds++] = connect_to(SOCK_DGRAM, argv[3], own);
        if (argc == 5) fds[nfds++] = connect_to(SOCK_DGRAM, argv[4], NULL);
    } else if (strcmp(mode, "stream") == 0 && argc == 4) {
        fds[nfds++] = connect_to(SOCK_STREAM, argv[3], NULL);
        stream = 1;
    } else if (strcmp(mode, "pair") == 0 && argc == 3) {
        fds[nfds++] = pair_with_outsider(&helper);
    } else {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    install(SIGUSR2, on_verify_signal);
    if (helper) say("READY pid=%d fd=%d ino=%ld helper=%d", (int) real_getpid(), fds[0], ino_of(fds[0]), helper);
    else say("READY pid=%d fd=%d ino=%ld", (int) real_getpid(), fds[0], ino_of(fds[0]));
    unsigned long counter = 0, failures = 0;
    char first_failure[200] = "";
    for (;;) {
        counter++;
        char m[64];
        int n = stream ? snprintf(m, sizeof m, "rec %08lu\n", counter) : snprintf(m, sizeof m, "rec %lu", counter);
        for (int i = 0; i < nfds; i++) {
            ssize_t w;
            do w = send(fds[i], m, (size_t) n, MSG_NOSIGNAL); while (w < 0 && errno == EINTR);
            if (w != n) {
                if (failures++ == 0)
                    snprintf(first_failure, sizeof first_failure, "send #%lu on fd %d: %s", counter, fds[i],
                             w < 0 ? strerror(errno) : "short");
            }
        }
        say("tick %lu", counter);
        sleep_ms(50);
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;
        struct verdict v = {0};
        if (failures) fail(&v, "%lu failed sends, first: %s", failures, first_failure);
        char d[128];
        snprintf(d, sizeof d, "pid=%d sent=%lu", (int) real_getpid(), counter);
        report(&v, d);
    }
}
