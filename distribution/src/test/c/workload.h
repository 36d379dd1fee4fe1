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
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
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

/* Ends the workload with `SETUP FAIL <failures>` (status 1) when the setup checks in `setup` found any. */
static void exit_if_setup_failed(struct verdict *setup) {
    if (setup->len) {
        say("SETUP FAIL %s", setup->failures);
        exit(1);
    }
}

/*
 * A check another thread or process of the workload runs when asked (shared memory): `request` counts the questions,
 * the checker sets `result` ("ok" or what failed) and then `answered` to the request it answered.
 */
struct check {
    volatile int request;
    volatile int answered;
    char result[1024];
};

/* Asks the checker `c` (named `who`) and waits for its answer (up to 5 s). */
static void ask_checker(struct check *c, const char *who, struct verdict *v) {
    int req = c->request + 1;
    __atomic_store_n(&c->request, req, __ATOMIC_SEQ_CST);
    for (int i = 0; i < 500 && __atomic_load_n(&c->answered, __ATOMIC_SEQ_CST) != req; i++) usleep(10000);
    if (c->answered != req) fail(v, "%s did not answer", who);
    else if (strcmp(c->result, "ok") != 0) fail(v, "%s", c->result);
}

/* Fails `v` when `child` (a child of this process) has exited or is no longer this process's child. */
static void check_child_alive(struct verdict *v, pid_t child) {
    int st;
    pid_t w = waitpid(child, &st, WNOHANG);
    if (w != 0) fail(v, "child %d is gone (waitpid=%d)", (int) child, (int) w);
}

/* fork(2), dying with `SETUP FAIL <what>: <error>` when it fails. */
static pid_t fork_or_die(const char *what) {
    pid_t pid = fork();
    if (pid < 0) die(what);
    return pid;
}

/*
 * Appends what one read(2) of `fd` gives (retried on EINTR) to the `*have` bytes already in `buf` (`size` bytes in
 * all), keeping them NUL-terminated; returns what the read returned (0 at end of file, -1 with errno on an error).
 */
static ssize_t read_append(int fd, char *buf, size_t size, size_t *have) {
    ssize_t r;
    do {
        r = read(fd, buf + *have, size - 1 - *have);
    } while (r < 0 && errno == EINTR);
    if (r > 0) *have += (size_t) r;
    buf[*have] = 0;
    return r;
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

/* A hash of `n` 64-bit words (FNV-1a-like): what a heap held, to compare after a restore. */
static uint64_t words_sum(const uint64_t *w, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ w[i]) * 1099511628211ull;
    return h;
}

/* A heap of `mib` MiB (a decimal string) filled with a fixed pattern; sets `*words` to its length in words. */
static uint64_t *patterned_heap(const char *mib, size_t *words) {
    *words = (size_t) atol(mib) << 17;   /* MiB * 2^20 / 8 */
    uint64_t *heap = malloc(*words * sizeof *heap);
    if (!heap) die("malloc");
    for (size_t i = 0; i < *words; i++) heap[i] = i * 0x9E3779B97F4A7C15ull;
    return heap;
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

/*
 * A parent asking its child through two cells of shared memory: the parent stores a new request number (1, 2, ...)
 * into the request cell, the child answers (its answer elsewhere in the shared memory) and then stores the same number
 * into the answered cell. The parent sets the answered cell to ~0 before the fork; the child stores 0 into it once it
 * is set up.
 */

/*
 * Asks a child through shared memory: stores `request` into `*request_cell` (release) and waits up to `timeout_ns`
 * until the child has stored the same value into `*answered_cell`. Returns 1 when it did.
 */
static int ask_child_within(volatile uint64_t *request_cell, volatile uint64_t *answered_cell, uint64_t request,
                            uint64_t timeout_ns) {
    __atomic_store_n(request_cell, request, __ATOMIC_RELEASE);
    uint64_t until = monotonic_ns() + timeout_ns;
    while (__atomic_load_n(answered_cell, __ATOMIC_ACQUIRE) != request && monotonic_ns() < until) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return *answered_cell == request;
}

/* ask_child_within with 5 s. */
static int ask_child(volatile uint64_t *request_cell, volatile uint64_t *answered_cell, uint64_t request) {
    return ask_child_within(request_cell, answered_cell, request, 5000000000ull);
}

/* The parent's side: waits up to `timeout_ns` until the child has stored 0 into `*answered_cell` (it is set up). */
static void wait_child_set_up(volatile uint64_t *answered_cell, uint64_t timeout_ns) {
    uint64_t deadline = monotonic_ns() + timeout_ns;
    while (__atomic_load_n(answered_cell, __ATOMIC_ACQUIRE) != 0 && monotonic_ns() < deadline) sleep_ms(5);
}

/*
 * The child's side: waits (looking every 10 ms) for a request it has not answered yet and returns its number; exits
 * the child when `parent` is no longer its parent.
 */
static uint64_t await_request(volatile uint64_t *request_cell, volatile uint64_t *answered_cell, pid_t parent) {
    for (;;) {
        if (getppid() != parent) _exit(0);
        uint64_t req = __atomic_load_n(request_cell, __ATOMIC_ACQUIRE);
        if (req != 0 && req != *answered_cell) return req;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
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

/*
 * Fails `v` when this process no longer has the pid `pid` or its main loop's `counter` did not advance since the
 * last verification (`counter_at_verify`).
 */
static void check_pid_and_counter(struct verdict *v, pid_t pid, unsigned long counter,
                                  unsigned long counter_at_verify) {
    if (real_getpid() != pid) fail(v, "pid changed");
    if (counter <= counter_at_verify) fail(v, "counter did not advance");
}

/* Reads the file `path` (a small /proc file) into `buf`, NUL-terminated: its length, or -1 when it cannot be read. */
static ssize_t read_small_file(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    return n;
}

/* The state letter and the parent pid of process PID, from /proc/PID/stat: 0, or -1 when it cannot be read. */
static int proc_state(pid_t pid, char *state, pid_t *ppid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    if (read_small_file(path, buf, sizeof buf) < 0) return -1;
    char *p = strrchr(buf, ')');
    char st = '?';
    int pp = 0;
    if (p && p[1] && p[2]) sscanf(p + 2, "%c %d", &st, &pp);
    *state = st;
    *ppid = pp;
    return 0;
}

/* The inode number of what `fd` refers to (a socket's for a socket), -1 when fstat fails. */
static long ino_of(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 ? (long) st.st_ino : -1;
}

/* Fills `a` with the AF_UNIX address of the socket file `path`; returns its length for bind/connect. */
static socklen_t unix_path_addr(struct sockaddr_un *a, const char *path) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strncpy(a->sun_path, path, sizeof a->sun_path - 1);
    return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

/*
 * Starts a process outside the workload's tree that holds the write end of pipe `p`: a grandchild (its parent exits
 * at once and is reaped here, so it is no descendant) that writes its pid (an int32) first, then one byte "x" every
 * `period_us` microseconds until the pipe is gone. Closes `p[1]` here, makes `p[0]` non-blocking and returns the
 * writer's pid.
 */
static pid_t start_outside_writer(int p[2], unsigned period_us) {
    pid_t mid = fork();
    if (mid < 0) die("fork(helper)");
    if (mid == 0) {
        pid_t h = fork();
        if (h < 0) _exit(1);
        if (h > 0) _exit(0);
        close(p[0]);
        int32_t me = (int32_t) real_getpid();
        if (write(p[1], &me, sizeof me) != (ssize_t) sizeof me) _exit(1);
        for (;;) {
            if (write(p[1], "x", 1) < 0 && errno != EINTR && errno != EAGAIN) _exit(0);
            usleep(period_us);
        }
    }
    int st;
    waitpid(mid, &st, 0);
    close(p[1]);
    int32_t helper = 0;
    size_t got = 0;
    while (got < sizeof helper) {
        ssize_t r = read(p[0], (char *) &helper + got, sizeof helper - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) die("read(helper pid)");
        got += (size_t) r;
    }
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    return (pid_t) helper;
}

#endif
