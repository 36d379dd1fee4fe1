/*
 * blocked_calls <workdir> <seconds>: one thread per blocking call, each entered right after READY with a timeout of
 * <seconds> (raw system calls, so each is exactly the call named):
 *   poll, ppoll, select, epoll_wait    on a pipe nobody writes (result 0: timed out)
 *   nanosleep (with rmtp), nanosleep_null (rmtp NULL), clock_nanosleep (relative, with rmtp),
 *   clock_nanosleep_abs (TIMER_ABSTIME, CLOCK_MONOTONIC deadline = start + seconds)    (result 0)
 *   futex (FUTEX_WAIT_PRIVATE, relative timeout)    (result -1 ETIMEDOUT)
 *   read    on the FIFO <workdir>/feed opened O_RDWR: returns what the test writes
 * The main thread waits for them in pthread_join (futex without timeout). Each thread prints
 * `START call=<name> mono=<CLOCK_MONOTONIC ns>` before the call and `DONE call=<name> rc=<result> errno=<name>
 * start=<ns> end=<ns>` after it; the main thread then prints `VERDICT PASS` if every call gave its natural result
 * (no EINTR, no early end), else `VERDICT FAIL <what>`.
 * Prints `READY pid=<pid> calls=<n>` once every thread is about to enter its call.
 */
#include "workload.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <linux/futex.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/stat.h>

static long seconds;
static int pipe_r, ep, fifo;
static uint32_t futex_word;
static pthread_barrier_t barrier;

enum call { POLL, PPOLL, SELECT, EPOLL_WAIT, NANOSLEEP, NANOSLEEP_NULL, CLOCK_NANOSLEEP, CLOCK_NANOSLEEP_ABS, FUTEX, READ, NCALLS };
static const char *NAMES[] = {"poll", "ppoll", "select", "epoll_wait", "nanosleep", "nanosleep_null", "clock_nanosleep",
                              "clock_nanosleep_abs", "futex", "read"};
static struct { long rc; int err; uint64_t start, end; } results[NCALLS];

static const char *errname(int e) {
    switch (e) {
        case 0: return "0";
        case EINTR: return "EINTR";
        case ETIMEDOUT: return "ETIMEDOUT";
        case EAGAIN: return "EAGAIN";
        default: return strerror(e);
    }
}

static void *run(void *arg) {
    enum call c = (enum call) (intptr_t) arg;
    char buf[64];
    struct pollfd p = {pipe_r, POLLIN, 0};
    struct timespec ts = {seconds, 0}, rem = {0, 0};
    struct timeval tv = {seconds, 0};
    struct epoll_event ev;
    fd_set rfds;
    FD_ZERO(&rfds);
    FD_SET(pipe_r, &rfds);
    pthread_barrier_wait(&barrier);
    uint64_t start = monotonic_ns();
    struct timespec abs = {(time_t) ((start / 1000000000ull) + seconds), (long) (start % 1000000000ull)};
    say("START call=%s mono=%llu", NAMES[c], (unsigned long long) start);
    long rc;
    errno = 0;
    switch (c) {
        case POLL: rc = syscall(SYS_poll, &p, 1, seconds * 1000); break;
        case PPOLL: rc = syscall(SYS_ppoll, &p, 1, &ts, NULL, 8); break;
        case SELECT: rc = syscall(SYS_select, pipe_r + 1, &rfds, NULL, NULL, &tv); break;
        case EPOLL_WAIT: rc = syscall(SYS_epoll_wait, ep, &ev, 1, seconds * 1000); break;
        case NANOSLEEP: rc = syscall(SYS_nanosleep, &ts, &rem); break;
        case NANOSLEEP_NULL: rc = syscall(SYS_nanosleep, &ts, NULL); break;
        case CLOCK_NANOSLEEP: rc = syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, &rem); break;
        case CLOCK_NANOSLEEP_ABS: rc = syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL); break;
        case FUTEX: rc = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0); break;
        case READ: rc = syscall(SYS_read, fifo, buf, sizeof buf); break;
        default: rc = -2;
    }
    int err = rc < 0 ? errno : 0;
    uint64_t end = monotonic_ns();
    results[c].rc = rc;
    results[c].err = err;
    results[c].start = start;
    results[c].end = end;
    say("DONE call=%s rc=%ld errno=%s start=%llu end=%llu", NAMES[c], rc, errname(err), (unsigned long long) start,
        (unsigned long long) end);
    return NULL;
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 2, 2, "<seconds>");
    seconds = atol(argv[2]);
    int p[2];
    if (pipe(p) != 0) die("pipe");
    pipe_r = p[0];
    ep = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN, {.u64 = 1}};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, pipe_r, &ev) != 0) die("epoll");
    if (mkfifo("feed", 0600) != 0 && errno != EEXIST) die("mkfifo");
    fifo = open("feed", O_RDWR);
    if (fifo < 0) die("open(feed)");
    pthread_barrier_init(&barrier, NULL, NCALLS + 1);
    pthread_t t[NCALLS];
    for (int i = 0; i < NCALLS; i++)
        if (pthread_create(&t[i], NULL, run, (void *) (intptr_t) i) != 0) die("pthread_create");
    say("READY pid=%d calls=%d", (int) real_getpid(), NCALLS);
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < NCALLS; i++) pthread_join(t[i], NULL);
    struct verdict v = {0};
    uint64_t want = (uint64_t) seconds * 1000000000ull;
    for (int i = 0; i < NCALLS; i++) {
        long expected_rc = i == FUTEX ? -1 : 0;
        int expected_err = i == FUTEX ? ETIMEDOUT : 0;
        if (i == READ) {
            if (results[i].rc <= 0) fail(&v, "read gave %ld (%s)", results[i].rc, errname(results[i].err));
            continue;
        }
        if (results[i].rc != expected_rc || results[i].err != expected_err)
            fail(&v, "%s gave %ld (%s)", NAMES[i], results[i].rc, errname(results[i].err));
        else if (results[i].end - results[i].start < want - 5000000ull)
            fail(&v, "%s ended after %llu ms of %ld s", NAMES[i],
                 (unsigned long long) ((results[i].end - results[i].start) / 1000000), seconds);
    }
    report(&v, "every call gave its natural result");
    return 0;
}
