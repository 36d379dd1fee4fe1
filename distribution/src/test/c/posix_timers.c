/*
 * posix_timers <workdir>: POSIX timers (timer_create), through raw syscalls so the ids are the kernel's:
 *   periodic  id 0  CLOCK_MONOTONIC, every 20 ms, SIGRTMIN+1 to the process, sigev_value 0xA1
 *   far       id 1  CLOCK_REALTIME, one shot in 1000 s, SIGEV_NONE
 *   (gap)     id 2  created and deleted: must stay free
 *   thread    id 3  CLOCK_MONOTONIC, every 30 ms, SIGUSR1 to the worker thread only (SIGEV_THREAD_ID), value 0xC3
 * The handlers check si_timerid, si_value and, for the thread timer, the receiving thread. On SIGUSR2 main checks
 * that both periodic timers go on firing with their settings, the one-shot keeps its remaining time, id 2 is no timer
 * (reverse check) and /proc/self/timers lists exactly the three, then prints `VERDICT PASS|FAIL`.
 * Prints `READY pid=<pid> worker=<tid>`, `tick N`.
 */
#include "workload.h"

#include <fcntl.h>
#include <pthread.h>

#define ID_PERIODIC 0
#define ID_FAR 1
#define ID_GAP 2
#define ID_THREAD 3

struct ksigevent {
    union {
        int sival_int;
        void *sival_ptr;
    } value;
    int signo;
    int notify;
    int tid;
    int pad[11];
};

static volatile unsigned long periodic_hits, thread_hits, bad_hits;
static volatile pid_t worker_tid;

static void on_periodic(int sig, siginfo_t *si, void *uc) {
    (void) sig;
    (void) uc;
    if (si->si_code != SI_TIMER || si->si_timerid != ID_PERIODIC || si->si_value.sival_int != 0xA1) bad_hits++;
    else periodic_hits++;
}

static void on_thread_timer(int sig, siginfo_t *si, void *uc) {
    (void) sig;
    (void) uc;
    if (si->si_code != SI_TIMER || si->si_timerid != ID_THREAD || si->si_value.sival_int != 0xC3
        || syscall(SYS_gettid) != worker_tid) bad_hits++;
    else thread_hits++;
}

static void handle(int sig, void (*h)(int, siginfo_t *, void *)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) die("sigaction");
}

static int create_timer(int clock, int notify, int signo, int value, int tid) {
    struct ksigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.value.sival_int = value;
    ev.signo = signo;
    ev.notify = notify;
    ev.tid = tid;
    int id = -1;
    if (syscall(SYS_timer_create, clock, &ev, &id) != 0) die("timer_create");
    return id;
}

static void arm(int id, long interval_ns, long value_s, long value_ns) {
    struct itimerspec its = {{interval_ns / 1000000000L, interval_ns % 1000000000L}, {value_s, value_ns}};
    if (syscall(SYS_timer_settime, id, 0, &its, NULL) != 0) die("timer_settime");
}

static void *worker(void *arg) {
    (void) arg;
    worker_tid = (pid_t) syscall(SYS_gettid);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    for (;;) pause();
    return NULL;
}

static int timers_listed(void) {
    char buf[8192];
    int fd = open("/proc/self/timers", O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = 0;
    int count = 0;
    for (char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, "ID:", 3) == 0) count++;
    }
    return count;
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    install(SIGUSR2, on_verify_signal);
    handle(SIGRTMIN + 1, on_periodic);
    handle(SIGUSR1, on_thread_timer);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, NULL); /* only the worker takes SIGUSR1 */
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0) die("pthread_create");
    while (!worker_tid) usleep(1000);

    if (create_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 1, 0xA1, 0) != ID_PERIODIC) die("periodic id");
    if (create_timer(CLOCK_REALTIME, SIGEV_NONE, 0, 0, 0) != ID_FAR) die("far id");
    if (create_timer(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0) != ID_GAP) die("gap id");
    if (create_timer(CLOCK_MONOTONIC, SIGEV_THREAD_ID | SIGEV_SIGNAL, SIGUSR1, 0xC3, worker_tid) != ID_THREAD) die("thread id");
    if (syscall(SYS_timer_delete, ID_GAP) != 0) die("timer_delete");
    arm(ID_PERIODIC, 20000000L, 0, 20000000L);
    arm(ID_FAR, 0, 1000, 0);
    arm(ID_THREAD, 30000000L, 0, 30000000L);

    pid_t pid = real_getpid();
    say("READY pid=%d worker=%d", (int) pid, (int) worker_tid);
    unsigned long counter = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (real_getpid() != pid) fail(&v, "pid changed");
        unsigned long p0 = periodic_hits, t0 = thread_hits;
        uint64_t start = monotonic_ns();
        while ((periodic_hits < p0 + 5 || thread_hits < t0 + 3) && monotonic_ns() - start < 3000000000ull) usleep(5000);
        if (periodic_hits < p0 + 5) fail(&v, "periodic timer fired %lu times in 3 s", periodic_hits - p0);
        if (thread_hits < t0 + 3) fail(&v, "thread timer fired %lu times in 3 s", thread_hits - t0);
        if (bad_hits) fail(&v, "%lu timer signals with a wrong id, value or thread", bad_hits);
        struct itimerspec its;
        if (syscall(SYS_timer_gettime, ID_PERIODIC, &its) != 0) fail(&v, "timer_gettime(%d): %s", ID_PERIODIC, strerror(errno));
        else if (its.it_interval.tv_sec != 0 || its.it_interval.tv_nsec != 20000000L) fail(&v, "periodic interval %ld.%09ld", (long) its.it_interval.tv_sec, its.it_interval.tv_nsec);
        if (syscall(SYS_timer_gettime, ID_THREAD, &its) != 0) fail(&v, "timer_gettime(%d): %s", ID_THREAD, strerror(errno));
        else if (its.it_interval.tv_nsec != 30000000L) fail(&v, "thread timer interval %ld", its.it_interval.tv_nsec);
        if (syscall(SYS_timer_gettime, ID_FAR, &its) != 0) fail(&v, "timer_gettime(%d): %s", ID_FAR, strerror(errno));
        else if (its.it_value.tv_sec < 900 || its.it_value.tv_sec > 1000 || its.it_interval.tv_sec != 0) fail(&v, "one-shot has %ld s left", (long) its.it_value.tv_sec);
        if (syscall(SYS_timer_gettime, ID_GAP, &its) == 0 || errno != EINVAL) fail(&v, "deleted timer id %d exists", ID_GAP);
        if (timers_listed() != 3) fail(&v, "/proc/self/timers lists %d timers", timers_listed());
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu periodic=%lu thread=%lu", (int) pid, counter, periodic_hits, thread_hits);
        report(&v, detail);
    }
}
