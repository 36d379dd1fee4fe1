/*
 * epoll_set <workdir>: an event loop on an epoll set (fd 30) holding every kind of registration:
 *   fd 20 pipe read end (write end fd 40)   EPOLLIN|EPOLLET, data 0x1122334455667788
 *   fd 21 eventfd                           EPOLLIN|EPOLLONESHOT (armed), data 21
 *   fd 22 socketpair end (peer fd 41)       EPOLLIN|EPOLLEXCLUSIVE, data 22
 *   fd 23 timerfd, periodic 100 ms          EPOLLIN|EPOLLWAKEUP, data 23 (the loop reads it and counts;
 *                                           the kernel drops EPOLLWAKEUP without CONFIG_PM_SLEEP)
 *   fd 24 inner epoll set holding eventfd fd 25 (EPOLLIN, data 25), registered in fd 30 with EPOLLIN, data 24
 *   a pipe read end registered as fd 26 (EPOLLIN, data 26), then moved to fd 27; fd 26 reused for /dev/null
 *     (write end fd 42)
 * With `unnamable` as second argument, a pipe read end registered as fd 28 (data 28) is then handed to a child
 * (which holds it and pauses) and closed in the parent: a registration no fd of the parent names.
 * Prints `READY pid=<pid>` (+ ` child=<pid>` with unnamable), `tick N`; on SIGUSR2 checks that its fdinfo lists the registrations it listed at start
 * (events and data, in any order), and that each registration still delivers: a byte into each pipe and the socket, a count into the inner
 * eventfd, each must come out of epoll_wait with its data. Prints `VERDICT PASS timer=<expirations>` or FAIL.
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#define ET_DATA 0x1122334455667788ULL

static void put_at(int fd, int at) {
    if (fd < 0) die("create");
    if (fd == at) return;
    if (dup2(fd, at) != at) die("dup2");
    close(fd);
}

static void reg(int ep, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = {events, {.u64 = data}};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
}

static uint64_t timer_count;

/* Waits up to 2 s for an event with `data` on fd 30 (reading the timer meanwhile); 1 if seen. */
static int await_data(uint64_t data) {
    uint64_t deadline = monotonic_ns() + 2000000000ull;
    while (monotonic_ns() < deadline) {
        struct epoll_event ev[8];
        int n = epoll_wait(30, ev, 8, 100);
        int hit = 0;
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u64 == 23) {
                uint64_t t;
                if (read(23, &t, sizeof t) == sizeof t) timer_count += t;
            } else if (ev[i].data.u64 == data) {
                hit = 1;
            }
        }
        if (hit) return 1;
    }
    return 0;
}

static void read_fdinfo(int fd, char *out, size_t len) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    if (read_small_file(path, out, len) < 0) out[0] = 0;
}

/* Every "tfd: .. events: .. data: .." of `before` is in `now` and both have as many (the kernel's order may differ). */
static void same_registrations(struct verdict *v, const char *before, const char *now) {
    int count_before = 0, count_now = 0;
    for (const char *l = strstr(before, "tfd:"); l; l = strstr(l + 1, "tfd:")) {
        count_before++;
        const char *end = strstr(l, "  pos:");
        char want[128];
        snprintf(want, sizeof want, "%.*s", end ? (int) (end - l) : 0, l);
        if (!end || !strstr(now, want)) fail(v, "registration '%s' is gone", want);
    }
    for (const char *l = strstr(now, "tfd:"); l; l = strstr(l + 1, "tfd:")) count_now++;
    if (count_before < 6 || count_now != count_before) fail(v, "%d registrations at start, %d now", count_before, count_now);
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 99, "[unnamable]");
    install(SIGUSR2, on_verify_signal);
    int p[2], sp[2], q[2];
    if (pipe2(p, O_NONBLOCK) != 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) != 0
        || pipe2(q, O_NONBLOCK) != 0) die("pipe/socketpair");
    put_at(p[1], 40);
    put_at(p[0], 20);
    put_at(sp[1], 41);
    put_at(sp[0], 22);
    put_at(q[1], 42);
    put_at(q[0], 26);
    put_at(eventfd(0, EFD_NONBLOCK), 21);
    put_at(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), 23);
    struct itimerspec per = {{0, 100000000}, {0, 100000000}};
    if (timerfd_settime(23, 0, &per, NULL) != 0) die("timerfd_settime");
    put_at(epoll_create1(EPOLL_CLOEXEC), 24);
    put_at(eventfd(0, EFD_NONBLOCK), 25);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0 || dup3(ep, 30, O_CLOEXEC) != 30) die("epoll_create1");
    close(ep);
    reg(24, 25, EPOLLIN, 25);
    reg(30, 20, EPOLLIN | EPOLLET, ET_DATA);
    reg(30, 21, EPOLLIN | EPOLLONESHOT, 21);
    reg(30, 22, EPOLLIN | EPOLLEXCLUSIVE, 22);
    reg(30, 23, EPOLLIN | EPOLLWAKEUP, 23);
    reg(30, 24, EPOLLIN, 24);
    reg(30, 26, EPOLLIN, 26);
    /* the pipe registered as 26 moves to 27; 26 becomes /dev/null */
    if (dup2(26, 27) != 27) die("dup2(26, 27)");
    close(26);
    put_at(open("/dev/null", O_RDONLY), 26);

    char extra[32] = "";
    if (argc == 3 && strcmp(argv[2], "unnamable") == 0) {
        int u[2];
        if (pipe(u) != 0) die("pipe");
        put_at(u[0], 28);
        reg(30, 28, EPOLLIN, 28);
        pid_t child = fork();
        if (child < 0) die("fork");
        if (child == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            for (;;) pause();
        }
        close(28);
        close(u[1]);
        snprintf(extra, sizeof extra, " child=%d", (int) child);
    }
    static char at_start[4096];
    read_fdinfo(30, at_start, sizeof at_start);
    say("READY pid=%d%s", (int) real_getpid(), extra);
    unsigned long counter = 0;
    for (;;) {
        say("tick %lu", ++counter);
        struct epoll_event ev[8];
        int n = epoll_wait(30, ev, 8, 200);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u64 == 23) {
                uint64_t t;
                if (read(23, &t, sizeof t) == sizeof t) timer_count += t;
            }
        }
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;
        struct verdict v = {0};
        char info[4096];
        read_fdinfo(30, info, sizeof info);
        same_registrations(&v, at_start, info);
        /* the set as the kernel keeps it: EPOLLERR|EPOLLHUP added to each; EPOLLWAKEUP only with CONFIG_PM_SLEEP */
        if (!strstr(info, "tfd:       20 events: 80000019 data: 1122334455667788")) fail(&v, "EPOLLET registration of fd 20");
        if (!strstr(info, "tfd:       21 events: 40000019 data:               15")) fail(&v, "EPOLLONESHOT registration of fd 21");
        if (!strstr(info, "tfd:       22 events: 10000019 data:               16")) fail(&v, "EPOLLEXCLUSIVE registration of fd 22");
        if (!(fcntl(30, F_GETFD) & FD_CLOEXEC)) fail(&v, "epoll fd 30 lost FD_CLOEXEC");
        char b = 'x';
        uint64_t one = 1, got;
        if (write(40, &b, 1) != 1 || !await_data(ET_DATA)) fail(&v, "pipe fd 20 (EPOLLET) gave no event");
        while (read(20, &b, 1) == 1) {}
        if (write(41, &b, 1) != 1 || !await_data(22)) fail(&v, "socket fd 22 gave no event");
        while (read(22, &b, 1) == 1) {}
        if (write(25, &one, sizeof one) != sizeof one || !await_data(24)) fail(&v, "inner epoll fd 24 gave no event");
        struct epoll_event inner;
        if (epoll_wait(24, &inner, 1, 0) != 1 || inner.data.u64 != 25) fail(&v, "inner epoll did not report fd 25");
        if (read(25, &got, sizeof got) != sizeof got) fail(&v, "inner eventfd: %s", strerror(errno));
        if (write(42, &b, 1) != 1 || !await_data(26)) fail(&v, "pipe registered as fd 26 (now fd 27) gave no event");
        while (read(27, &b, 1) == 1) {}
        uint64_t t0 = timer_count;
        for (int i = 0; i < 20 && timer_count == t0; i++) await_data(~0ULL >> 1);
        if (timer_count == t0) fail(&v, "timerfd 23 stopped expiring");
        char detail[64];
        snprintf(detail, sizeof detail, "timer=%llu", (unsigned long long) timer_count);
        report(&v, detail);
    }
}
