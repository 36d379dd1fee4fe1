/*
 * Shared helpers of the test workloads (header only: the build compiles every *.c of this directory into its own
 * program, so nothing here may be a separate translation unit).
 *
 * Protocol every workload follows: it logs to stdout (a file the test appends to), prints one `READY ...` line once
 * set up, a `tick N` line per main-loop round, and on SIGUSR2 checks itself and prints exactly one line
 * `VERDICT PASS ...` or `VERDICT FAIL <what>`. Signal handlers only set flags; all work happens in the main loop.
 */
#ifndef CRYO_WORKLOAD_H
#define CRYO_WORKLOAD_H

#define _GNU_SOURCE
/* every workload uses only some of these helpers */
#pragma GCC diagnostic ignored "-Wunused-function"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t wl_verify_requested;

/* Writes one formatted line to stdout with a single write(2) (stdout is a file opened O_APPEND by the test). */
static void say(const char *fmt, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int) sizeof buf - 2) n = (int) sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t off = 0;
    while (off < n) {
        ssize_t w = write(1, buf + off, n - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;
        }
        off += w;
    }
}

static void die(const char *what) {
    say("SETUP FAIL %s: %s", what, strerror(errno));
    exit(1);
}

/* Accumulates failures of one verification round; the verdict line lists them all. */
struct verdict {
    char failures[3000];
    size_t len;
};

static void fail(struct verdict *v, const char *fmt, ...) {
    if (v->len >= sizeof v->failures - 2) return;
    if (v->len > 0) v->failures[v->len++] = ';';
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v->failures + v->len, sizeof v->failures - v->len, fmt, ap);
    va_end(ap);
    if (n > 0) v->len += (size_t) n;
    if (v->len >= sizeof v->failures) v->len = sizeof v->failures - 1;
    v->failures[v->len] = 0;
}

/* Prints the verdict: `VERDICT PASS <detail>` when nothing failed, else `VERDICT FAIL <failures>`. */
static void report(struct verdict *v, const char *detail) {
    if (v->len == 0) say("VERDICT PASS %s", detail);
    else say("VERDICT FAIL %s", v->failures);
}

static void on_verify_signal(int sig) {
    (void) sig;
    wl_verify_requested = 1;
}

static void install(int sig, void (*handler)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) die("sigaction");
}

/*
 * The start of a workload: checks that it got between min_args and max_args arguments (the first is always the work
 * directory), else prints `usage: PROG <workdir> ARGS_USAGE` and exits 2; then enters the work directory.
 */
static void start_in_workdir(int argc, char **argv, int min_args, int max_args, const char *args_usage) {
    if (argc - 1 < min_args || argc - 1 > max_args) {
        fprintf(stderr, "usage: %s <workdir>%s%s\n", argv[0], *args_usage ? " " : "", args_usage);
        exit(2);
    }
    if (chdir(argv[1]) != 0) die("chdir(workdir)");
}

static uint64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* Sleeps about `ms` milliseconds (absolute deadline, so signals do not stretch it); returns early on a verify request. */
static void sleep_ms(unsigned ms) {
    uint64_t deadline = monotonic_ns() + (uint64_t) ms * 1000000ull;
    struct timespec ts = {(time_t) (deadline / 1000000000ull), (long) (deadline % 1000000000ull)};
    while (!wl_verify_requested) {
        int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        if (rc == 0) return;
        if (rc != EINTR) return;
    }
}

/*
 * One turn of a workload's main loop: counts, prints `tick N`, sleeps about 100 ms; returns 1 (and clears the
 * request) when a verification was asked for (SIGUSR2), else 0. Usage: `for (;;) { if (!tick(&counter)) continue; ...`.
 */
static int tick(unsigned long *counter) {
    (*counter)++;
    say("tick %lu", *counter);
    sleep_ms(100);
    if (!wl_verify_requested) return 0;
    wl_verify_requested = 0;
    return 1;
}

static pid_t real_getpid(void) {
    return (pid_t) syscall(SYS_getpid);
}

/* Opens a pseudo-terminal master (posix_openpt, O_NOCTTY) at fd `at`, granted and unlocked; dies on failure. */
static int open_pty_master_at(int at) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0) die("posix_openpt");
    if (master != at && (dup2(master, at) != at || close(master) != 0)) die("dup2 master");
    if (grantpt(at) != 0 || unlockpt(at) != 0) die("grantpt/unlockpt");
    return at;
}

#endif
