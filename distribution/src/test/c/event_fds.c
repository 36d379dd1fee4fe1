/*
 * event_fds <workdir>: holds an eventfd, four timerfds and a signalfd at fixed numbers and uses them from a poll loop.
 *   fd 10 eventfd, counter 5, EFD_SEMAPHORE|EFD_NONBLOCK
 *   fd 11 timerfd CLOCK_MONOTONIC, relative, 60 s, one-shot
 *   fd 12 timerfd CLOCK_REALTIME, absolute deadline (printed as deadline=<unix ns>), one-shot
 *   fd 13 timerfd CLOCK_MONOTONIC, periodic 100 ms: the main loop reads it and counts expirations
 *   fd 14 timerfd CLOCK_MONOTONIC, 1 ms one-shot, TFD_NONBLOCK, expired and never read (ticks 1 pending)
 *   fd 15 signalfd for SIGUSR1 (blocked), SFD_NONBLOCK: the main loop prints `SIGNALFD signo=10 n=N` per signal
 * Prints `READY pid=<pid> deadline=<ns>`, `tick N` per loop round; on SIGUSR2 checks every fd through its own
 * /proc/self/fdinfo and calls (non-destructively: the eventfd's read is written back) and prints
 * `VERDICT PASS t11_left_ms=<ms> t12_left_ms=<ms> periodic=<expirations>` or `VERDICT FAIL ...`.
 */
#include "workload.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

static void put_at(int fd, int at) {
    if (fd < 0) die("create");
    if (dup2(fd, at) != at) die("dup2");
    close(fd);
}

/* The value of `key` in /proc/self/fdinfo/fd, or "" */
static const char *fdinfo(int fd, const char *key, char *out, size_t len) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    out[0] = 0;
    if (read_small_file(path, buf, sizeof buf) < 0) return out;
    size_t kl = strlen(key);
    for (char *line = buf; line && *line; ) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            const char *v = line + kl + 1;
            while (*v == ' ' || *v == '\t') v++;
            snprintf(out, len, "%s", v);
            return out;
        }
        line = nl ? nl + 1 : NULL;
    }
    return out;
}

static long long left_ms(int fd) {
    struct itimerspec its;
    if (timerfd_gettime(fd, &its) != 0) return -1;
    return (long long) its.it_value.tv_sec * 1000 + its.it_value.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    install(SIGUSR2, on_verify_signal);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    if (sigprocmask(SIG_BLOCK, &usr1, NULL) != 0) die("sigprocmask");

    put_at(eventfd(5, EFD_SEMAPHORE | EFD_NONBLOCK), 10);
    put_at(timerfd_create(CLOCK_MONOTONIC, 0), 11);
    struct itimerspec rel = {{0, 0}, {60, 0}};
    if (timerfd_settime(11, 0, &rel, NULL) != 0) die("timerfd_settime(11)");
    put_at(timerfd_create(CLOCK_REALTIME, 0), 12);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long deadline = ((long long) now.tv_sec + 120) * 1000000000LL;
    struct itimerspec abs = {{0, 0}, {(time_t) (deadline / 1000000000LL), 0}};
    if (timerfd_settime(12, TFD_TIMER_ABSTIME, &abs, NULL) != 0) die("timerfd_settime(12)");
    put_at(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), 13);
    struct itimerspec per = {{0, 100000000}, {0, 100000000}};
    if (timerfd_settime(13, 0, &per, NULL) != 0) die("timerfd_settime(13)");
    put_at(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), 14);
    struct itimerspec once = {{0, 0}, {0, 1000000}};
    if (timerfd_settime(14, 0, &once, NULL) != 0) die("timerfd_settime(14)");
    put_at(signalfd(-1, &usr1, SFD_NONBLOCK), 15);
    sleep_ms(20);

    say("READY pid=%d deadline=%lld", (int) real_getpid(), deadline);
    unsigned long counter = 0, usr1_seen = 0;
    uint64_t periodic = 0, periodic_at_verify = 0;
    for (;;) {
        say("tick %lu", ++counter);
        struct pollfd p[2] = {{13, POLLIN, 0}, {15, POLLIN, 0}};
        int n = poll(p, 2, 200);
        if (n < 0 && errno != EINTR) die("poll");
        if (n > 0 && (p[0].revents & POLLIN)) {
            uint64_t t;
            if (read(13, &t, sizeof t) == sizeof t) periodic += t;
        }
        if (n > 0 && (p[1].revents & POLLIN)) {
            struct signalfd_siginfo si;
            while (read(15, &si, sizeof si) == sizeof si) say("SIGNALFD signo=%u n=%lu", si.ssi_signo, ++usr1_seen);
        }
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;
        struct verdict v = {0};
        char val[256];
        /* eventfd: counter, semaphore mode, non-blocking */
        if (strcmp(fdinfo(10, "eventfd-count", val, sizeof val), "5") != 0) fail(&v, "eventfd count '%s' != 5", val);
        if (strcmp(fdinfo(10, "eventfd-semaphore", val, sizeof val), "1") != 0) fail(&v, "eventfd semaphore '%s'", val);
        if (!(fcntl(10, F_GETFL) & O_NONBLOCK)) fail(&v, "eventfd lost O_NONBLOCK");
        uint64_t one = 0;
        if (read(10, &one, sizeof one) != sizeof one || one != 1) fail(&v, "eventfd semaphore read gave %llu (%s)",
                (unsigned long long) one, strerror(errno));
        else if (write(10, &one, sizeof one) != sizeof one) fail(&v, "eventfd write back: %s", strerror(errno));
        /* relative timer: still armed, at most 60 s left */
        long long l11 = left_ms(11);
        if (l11 <= 0 || l11 > 60000) fail(&v, "timer 11 has %lld ms left", l11);
        if (strcmp(fdinfo(11, "settime flags", val, sizeof val), "00") != 0) fail(&v, "timer 11 settime flags '%s'", val);
        /* absolute timer: still absolute, aimed at the same deadline */
        if (strcmp(fdinfo(12, "settime flags", val, sizeof val), "01") != 0) fail(&v, "timer 12 settime flags '%s'", val);
        if (strcmp(fdinfo(12, "clockid", val, sizeof val), "0") != 0) fail(&v, "timer 12 clockid '%s'", val);
        clock_gettime(CLOCK_REALTIME, &now);
        long long want12 = (deadline - ((long long) now.tv_sec * 1000000000LL + now.tv_nsec)) / 1000000;
        long long l12 = left_ms(12);
        if (l12 < want12 - 1000 || l12 > want12 + 1000) fail(&v, "timer 12 has %lld ms left, its deadline %lld", l12, want12);
        /* periodic timer keeps expiring */
        if (periodic <= periodic_at_verify) fail(&v, "periodic timer 13 did not expire since the last check");
        periodic_at_verify = periodic;
        /* the expiration of timer 14 nobody read is still there */
        if (strcmp(fdinfo(14, "ticks", val, sizeof val), "1") != 0) fail(&v, "timer 14 ticks '%s' != 1", val);
        /* signalfd mask and flags */
        if (strcmp(fdinfo(15, "sigmask", val, sizeof val), "0000000000000200") != 0) fail(&v, "signalfd mask '%s'", val);
        if (!(fcntl(15, F_GETFL) & O_NONBLOCK)) fail(&v, "signalfd lost O_NONBLOCK");
        char detail[160];
        snprintf(detail, sizeof detail, "t11_left_ms=%lld t12_left_ms=%lld periodic=%llu", l11, l12,
                 (unsigned long long) periodic);
        report(&v, detail);
    }
}
