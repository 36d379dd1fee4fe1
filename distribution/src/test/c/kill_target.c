/*
 * kill_target <workdir> <MiB>: the target of "cryo killed in mid-dump" (KillMidDumpIT, bench/kill-mid-dump.sh). A
 * small tree that must come out of any interrupted dump exactly as it went in:
 *   - the main thread holds MiB MiB of heap filled with a pattern (the dump takes a while), blocks SIGUSR1 and
 *     SIGRTMIN+2 (neither an empty nor a full mask: both are what a careless tool leaves behind) and sleeps in
 *     clock_nanosleep between ticks;
 *   - a second thread blocks SIGHUP and SIGUSR2 and sleeps in relative nanosleep rounds of 20 ms: interrupted by
 *     the freeze, the kernel restarts such a sleep through its restart block (restart_syscall); an EINTR here means
 *     the block was lost;
 *   - a child process blocks SIGTERM and waits in read(2) on a command pipe (an -ERESTARTSYS restart) with a
 *     small heap of its own.
 * Every process records its open fds (readlink of /proc/self/fd/N) at start (a pipe is compared by kind: a
 * restore gives it a new inode). On SIGUSR2 the main thread checks its
 * heap checksum, both masks, that the second thread still advances and never saw EINTR, its fds, that it is not
 * traced (TracerPid 0); it asks the child over the pipe, which checks the same of itself; then prints
 * `VERDICT PASS|FAIL`. Prints `READY pid=<pid> child=<pid> thread=<tid> heapsum=<hex>`.
 */
#include "workload.h"

#include <dirent.h>
#include <poll.h>
#include <pthread.h>

#define MAX_FDS 64

struct fdset {
    int n;
    int fd[MAX_FDS];
    char target[MAX_FDS][128];
};

/* The process's fds and what they point at, the directory fd of the listing itself left out. */
static void list_fds(struct fdset *s) {
    s->n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return;
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) && s->n < MAX_FDS) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd == self) continue;
        char p[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        ssize_t k = readlink(p, s->target[s->n], sizeof s->target[0] - 1);
        s->target[s->n][k < 0 ? 0 : k] = 0;
        s->fd[s->n++] = fd;
    }
    closedir(d);
}

/* Same path; for a pipe or socket ("pipe:[ino]"), the same kind: a restore makes new inodes. */
static int same_file(const char *a, const char *b) {
    const char *ka = strstr(a, ":["), *kb = strstr(b, ":[");
    if (ka && kb) return ka - a == kb - b && strncmp(a, b, (size_t) (ka - a)) == 0;
    return strcmp(a, b) == 0;
}

static void check_fds(struct verdict *v, const char *who, const struct fdset *before) {
    struct fdset now;
    list_fds(&now);
    if (now.n != before->n) fail(v, "%s has %d fds, had %d", who, now.n, before->n);
    for (int i = 0; i < before->n; i++) {
        int found = 0;
        for (int j = 0; j < now.n; j++) {
            if (now.fd[j] == before->fd[i]) {
                found = 1;
                if (!same_file(now.target[j], before->target[i]))
                    fail(v, "%s fd %d is %s, was %s", who, before->fd[i], now.target[j], before->target[i]);
            }
        }
        if (!found) fail(v, "%s lost fd %d (%s)", who, before->fd[i], before->target[i]);
    }
}

/* TracerPid of /proc/self/task/<tid>/status (0 when untraced). */
static long tracer_of(pid_t tid) {
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/self/task/%d/status", (int) tid);
    FILE *f = fopen(p, "r");
    long t = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "TracerPid:", 10) == 0) t = atol(line + 10);
    }
    fclose(f);
    return t;
}

static void check_mask(struct verdict *v, const char *who, const sigset_t *want) {
    sigset_t now;
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    for (int sig = 1; sig < 65; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        if (sigismember(&now, sig) != sigismember(want, sig))
            fail(v, "%s: signal %d is %sblocked", who, sig, sigismember(&now, sig) ? "" : "not ");
    }
}

static volatile unsigned long thread_rounds;
static volatile int thread_eintr;
static volatile int thread_mask_bad;
static volatile pid_t thread_tid;
static sigset_t thread_mask;

static void *sleeper(void *arg) {
    (void) arg;
    pthread_sigmask(SIG_SETMASK, &thread_mask, NULL);
    thread_tid = (pid_t) syscall(SYS_gettid);
    for (;;) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        if (nanosleep(&ts, NULL) != 0 && errno == EINTR) thread_eintr++;
        sigset_t now;
        pthread_sigmask(SIG_SETMASK, NULL, &now);
        for (int sig = 1; sig < 65; sig++) {
            if (sig != SIGKILL && sig != SIGSTOP && sigismember(&now, sig) != sigismember(&thread_mask, sig))
                thread_mask_bad = 1;
        }
        thread_rounds++;
    }
    return NULL;
}

static void child_main(int cmd, int answer) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    size_t words = 1 << 17;   /* 1 MiB */
    uint64_t *heap = malloc(words * sizeof *heap);
    if (!heap) _exit(3);
    for (size_t i = 0; i < words; i++) heap[i] = i * 0xC2B2AE3D27D4EB4Full;
    uint64_t expected = words_sum(heap, words);
    struct fdset fds;
    list_fds(&fds);
    for (;;) {
        char c;
        ssize_t n = read(cmd, &c, 1);
        if (n == 0) _exit(0);   /* the parent is gone */
        if (n < 0) {
            if (errno == EINTR) {
                struct verdict v = {0};
                fail(&v, "child: read was interrupted (EINTR) instead of restarted");
                dprintf(answer, "%s\n", v.failures);
            }
            continue;
        }
        struct verdict v = {0};
        if (words_sum(heap, words) != expected) fail(&v, "child heap changed");
        check_mask(&v, "child", &mask);
        check_fds(&v, "child", &fds);
        long t = tracer_of((pid_t) real_getpid());
        if (t != 0) fail(&v, "child traced by %ld", t);
        dprintf(answer, "%s\n", v.len ? v.failures : "ok");
    }
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 2, 2, "<MiB>");
    int cmd[2], answer[2];
    if (pipe(cmd) != 0 || pipe(answer) != 0) die("pipe");
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        close(cmd[1]);
        close(answer[0]);
        child_main(cmd[0], answer[1]);
    }
    close(cmd[0]);
    close(answer[1]);

    size_t words;
    uint64_t *heap = patterned_heap(argv[2], &words);
    uint64_t expected = words_sum(heap, words);

    install(SIGUSR2, on_verify_signal);
    sigemptyset(&thread_mask);
    sigaddset(&thread_mask, SIGHUP);
    sigaddset(&thread_mask, SIGUSR2);
    pthread_t th;
    if (pthread_create(&th, NULL, sleeper, NULL) != 0) die("pthread_create");
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGRTMIN + 2);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    while (thread_tid == 0) sleep_ms(1);
    struct fdset fds;
    list_fds(&fds);
    say("READY pid=%d child=%d thread=%d heapsum=%llx", (int) real_getpid(), (int) child, (int) thread_tid,
        (unsigned long long) expected);
    unsigned long counter = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (words_sum(heap, words) != expected) fail(&v, "heap changed");
        check_mask(&v, "main thread", &mask);
        if (thread_mask_bad) fail(&v, "second thread's signal mask changed");
        if (thread_eintr) fail(&v, "second thread's nanosleep returned EINTR %d times", thread_eintr);
        unsigned long r0 = thread_rounds;
        for (int i = 0; i < 100 && thread_rounds == r0; i++) sleep_ms(10);
        if (thread_rounds == r0) fail(&v, "second thread does not advance");
        check_fds(&v, "main", &fds);
        long t = tracer_of((pid_t) real_getpid());
        if (t != 0) fail(&v, "main thread traced by %ld", t);
        t = tracer_of(thread_tid);
        if (t != 0) fail(&v, "second thread traced by %ld", t);
        char line[3100] = "";
        if (write(cmd[1], "v", 1) != 1) {
            fail(&v, "cannot ask the child: %s", strerror(errno));
        } else {
            struct pollfd p = {answer[0], POLLIN, 0};
            int ready = 0;
            for (int i = 0; i < 100 && !ready; i++) ready = poll(&p, 1, 100) > 0;
            ssize_t n = ready ? read(answer[0], line, sizeof line - 1) : -1;
            if (n <= 0) fail(&v, "the child does not answer");
            else {
                line[n] = 0;
                line[strcspn(line, "\n")] = 0;
                if (strcmp(line, "ok") != 0) fail(&v, "%s", line);
            }
        }
        report(&v, "heap intact, masks, fds, sleeps and tracer as before, child ok");
    }
}
