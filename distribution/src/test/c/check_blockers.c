/*
 * check_blockers <workdir> <tcp-port>: a tree of two processes holding several things a dump refuses, for
 * `cryo check -t`, which must list them all and leave the tree running as before:
 *   - the root holds fd 7 on a 2 MiB (sparse) file it then deleted, over the default --ghost-limit of 1 MiB
 *     (regular-file/GHOST_TOO_BIG);
 *   - the root holds the read end of a pipe whose write end belongs to a helper outside its tree (double fork,
 *     reparented away; pipe/EXTERNAL_PIPE), printed as helper=<pid>: the test must kill it;
 *   - the root holds an established TCP connection to 127.0.0.1:<tcp-port> (inet-socket/ESTABLISHED);
 *   - the child holds fd 9 on its uts namespace, /proc/self/ns/uts (core/NAMESPACE_FD).
 * Prints `READY pid=<pid> child=<pid> helper=<pid> pipe=<ino>`; ticks every 100 ms. On SIGUSR2 it checks that the
 * deleted file still reads back, the child is alive, the helper's bytes still arrive and the connection is open,
 * and prints `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char CONTENT[] = "check_blockers deleted file content";

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 2, 2, "<tcp-port>");

    int p[2];
    if (pipe(p) != 0) die("pipe");
    pid_t helper = start_outside_writer(p, 200000);
    struct stat pst;
    if (fstat(p[0], &pst) != 0) die("fstat(pipe)");

    int f = open("deleted.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (f < 0) die("open(deleted.txt)");
    if (write(f, CONTENT, sizeof CONTENT) != (ssize_t) sizeof CONTENT) die("write(deleted.txt)");
    if (ftruncate(f, 2 << 20) != 0) die("ftruncate(deleted.txt)");
    if (dup2(f, 7) != 7) die("dup2(7)");
    close(f);
    if (unlink("deleted.txt") != 0) die("unlink");

    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) die("socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) atoi(argv[2]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *) &a, sizeof a) != 0) die("connect");

    pid_t child = fork();
    if (child < 0) die("fork(child)");
    if (child == 0) {
        int ns = open("/proc/self/ns/uts", O_RDONLY);
        if (ns < 0 || dup2(ns, 9) != 9) _exit(1);
        close(ns);
        for (;;) pause();
    }

    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d child=%d helper=%d pipe=%lu", (int) real_getpid(), (int) child, (int) helper,
        (unsigned long) pst.st_ino);
    unsigned long tick = 0, drained = 0;
    for (;;) {
        char buf[64];
        ssize_t r;
        while ((r = read(p[0], buf, sizeof buf)) > 0) drained += (unsigned long) r;
        if (wl_verify_requested) {
            wl_verify_requested = 0;
            struct verdict v = {{0}, 0};
            char back[sizeof CONTENT] = {0};
            if (pread(7, back, sizeof back, 0) != (ssize_t) sizeof back || memcmp(back, CONTENT, sizeof back) != 0)
                fail(&v, "deleted file content");
            if (kill(child, 0) != 0) fail(&v, "child %d gone", (int) child);
            if (waitpid(child, NULL, WNOHANG) != 0) fail(&v, "child exited");
            unsigned long before = drained;
            for (int i = 0; i < 30 && drained == before; i++) {
                usleep(100000);
                while ((r = read(p[0], buf, sizeof buf)) > 0) drained += (unsigned long) r;
            }
            if (drained == before) fail(&v, "no bytes from the helper");
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) fail(&v, "socket error %d", err);
            if (send(s, "v", 1, MSG_NOSIGNAL) != 1) fail(&v, "send on the connection: %s", strerror(errno));
            char detail[128];
            snprintf(detail, sizeof detail, "ticks=%lu drained=%lu", tick, drained);
            report(&v, detail);
        }
        say("tick %lu", tick++);
        usleep(100000);
    }
}
