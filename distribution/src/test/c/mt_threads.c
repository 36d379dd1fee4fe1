/*
 * mt_threads <workdir>: one process, seven threads, each doing something different when it is frozen.
 *
 *   main         "mt_threads"  ticks, handles SIGUSR2 (the only thread that does not block it)
 *   4 counters   "mt-count-N"  count, 20 ms nanosleep between steps
 *   1 waiter     "mt-cond"     blocked in pthread_cond_wait; woken by main at each verify
 *   1 reader     "mt-read"     blocked in read() on one end of an AF_UNIX stream socketpair; main writes
 *                              "ping <n>" into the other end at each verify
 *
 * Every thread stores a value of its own in a __thread variable and its gettid() at start, and sets its name with
 * pthread_setname_np. At each step a thread checks that its TLS value, the address of its TLS variable and its tid
 * are unchanged. On SIGUSR2 main checks: /proc/self/task lists exactly the seven recorded tids; each thread's comm
 * is its name; every counter advanced; the waiter woke for the new generation; the reader read the new ping; no
 * thread saw its TLS or tid change. Prints `READY pid=<pid> tids=<t0,...,t6>`, `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>

#define NCOUNT 4
enum { T_MAIN = 0, T_COND = NCOUNT + 1, T_READ = NCOUNT + 2, NT = NCOUNT + 3 };

struct thread_state {
    volatile pid_t tid;
    char name[16];
    void *tls_addr;
    volatile unsigned long progress;
    volatile int broken;
    char failure[160];
};

static struct thread_state th[NT];
static __thread uint64_t tls_value;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned long generation;
static int sv[2];

static uint64_t magic(int idx) { return 0x7a11ce0000000000ull ^ ((uint64_t) idx << 32) ^ (uint64_t) (idx * 2654435761u); }

static void start(int idx) {
    tls_value = magic(idx);
    th[idx].tls_addr = (void *) &tls_value;
    if (idx != T_MAIN) {
        int rc = pthread_setname_np(pthread_self(), th[idx].name);
        if (rc != 0) { errno = rc; die("pthread_setname_np"); }
    }
    __atomic_store_n(&th[idx].tid, (pid_t) syscall(SYS_gettid), __ATOMIC_RELEASE);
}

/* Called by a thread on itself after each step: records the first breakage it sees. */
static void self_check(int idx) {
    struct thread_state *t = &th[idx];
    if (t->broken) return;
    pid_t tid = (pid_t) syscall(SYS_gettid);
    if (tls_value != magic(idx) || (void *) &tls_value != t->tls_addr || tid != t->tid) {
        snprintf(t->failure, sizeof t->failure, "%s: tid %d (recorded %d), TLS %#llx at %p (recorded %#llx at %p)",
                 t->name, (int) tid, (int) t->tid, (unsigned long long) tls_value, (void *) &tls_value,
                 (unsigned long long) magic(idx), t->tls_addr);
        t->broken = 1;
    }
}

static void *counter(void *arg) {
    int idx = (int) (intptr_t) arg;
    start(idx);
    for (;;) {
        th[idx].progress++;
        self_check(idx);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void *waiter(void *arg) {
    (void) arg;
    start(T_COND);
    pthread_mutex_lock(&lock);
    for (;;) {
        unsigned long seen = generation;
        while (generation == seen) pthread_cond_wait(&cond, &lock);
        th[T_COND].progress = generation;
        self_check(T_COND);
    }
    return NULL;
}

static void *reader(void *arg) {
    (void) arg;
    start(T_READ);
    char buf[64];
    size_t have = 0;
    for (;;) {
        ssize_t n = read_append(sv[0], buf, sizeof buf, &have);
        if (n <= 0) {
            snprintf(th[T_READ].failure, sizeof th[T_READ].failure, "mt-read: read returned %zd: %s", n,
                     n < 0 ? strerror(errno) : "end of stream");
            th[T_READ].broken = 1;
            return NULL;
        }
        char *nl;
        while ((nl = strchr(buf, '\n')) != NULL) {
            unsigned long ping;
            if (sscanf(buf, "ping %lu", &ping) == 1) th[T_READ].progress = ping;
            have -= (size_t) (nl + 1 - buf);
            memmove(buf, nl + 1, have + 1);
        }
        self_check(T_READ);
    }
    return NULL;
}

static int read_comm(pid_t tid, char *out, size_t cap) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int) tid);
    ssize_t n = read_small_file(path, out, cap);
    if (n < 0) return -1;
    if (out[n - 1] == '\n') out[n - 1] = 0;
    return 0;
}

static void check_tasks(struct verdict *v) {
    DIR *d = opendir("/proc/self/task");
    if (!d) { fail(v, "opendir(/proc/self/task): %s", strerror(errno)); return; }
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        pid_t tid = (pid_t) atoi(e->d_name);
        int known = 0;
        for (int i = 0; i < NT; i++) known |= th[i].tid == tid;
        if (!known) fail(v, "unknown thread %d", (int) tid);
        count++;
    }
    closedir(d);
    if (count != NT) fail(v, "%d threads, expected %d", count, NT);
    for (int i = 0; i < NT; i++) {
        char comm[32];
        if (read_comm(th[i].tid, comm, sizeof comm) != 0) fail(v, "thread %s (tid %d) is gone", th[i].name, (int) th[i].tid);
        else if (strcmp(comm, th[i].name) != 0) fail(v, "thread %d is named \"%s\", expected \"%s\"", (int) th[i].tid, comm, th[i].name);
    }
}

static int await_progress(int idx, unsigned long want, unsigned ms) {
    uint64_t until = monotonic_ns() + (uint64_t) ms * 1000000ull;
    while (th[idx].progress < want && monotonic_ns() < until) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return th[idx].progress >= want;
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) die("socketpair");
    snprintf(th[T_MAIN].name, sizeof th[T_MAIN].name, "mt_threads");
    for (int i = 1; i <= NCOUNT; i++) snprintf(th[i].name, sizeof th[i].name, "mt-count-%d", i - 1);
    snprintf(th[T_COND].name, sizeof th[T_COND].name, "mt-cond");
    snprintf(th[T_READ].name, sizeof th[T_READ].name, "mt-read");
    start(T_MAIN);

    /* the threads inherit a mask blocking SIGUSR2: the verify request always reaches main */
    sigset_t usr2, old;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &usr2, &old);
    install(SIGUSR2, on_verify_signal);
    pthread_t t;
    for (int i = 1; i <= NCOUNT; i++)
        if (pthread_create(&t, NULL, counter, (void *) (intptr_t) i) != 0) die("pthread_create(counter)");
    if (pthread_create(&t, NULL, waiter, NULL) != 0) die("pthread_create(waiter)");
    if (pthread_create(&t, NULL, reader, NULL) != 0) die("pthread_create(reader)");
    for (int i = 0; i < NT; i++)
        while (__atomic_load_n(&th[i].tid, __ATOMIC_ACQUIRE) == 0) sleep_ms(1);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    char tids[200];
    size_t n = 0;
    for (int i = 0; i < NT; i++) n += snprintf(tids + n, sizeof tids - n, "%s%d", i ? "," : "", (int) th[i].tid);
    pid_t pid = real_getpid();
    say("READY pid=%d tids=%s", (int) pid, tids);

    unsigned long ticks = 0, ping = 0;
    unsigned long last[NT] = {0};
    for (;;) {
        ticks++;
        th[T_MAIN].progress = ticks;
        self_check(T_MAIN);
        say("tick %lu", ticks);
        sleep_ms(100);
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;
        struct verdict v = {0};
        if (real_getpid() != pid) fail(&v, "pid changed");
        check_tasks(&v);
        for (int i = 1; i <= NCOUNT; i++) {
            if (!await_progress(i, last[i] + 2, 1000)) fail(&v, "%s stopped counting at %lu", th[i].name, th[i].progress);
            last[i] = th[i].progress;
        }
        pthread_mutex_lock(&lock);
        unsigned long gen = ++generation;
        pthread_cond_signal(&cond);
        pthread_mutex_unlock(&lock);
        if (!await_progress(T_COND, gen, 2000)) fail(&v, "mt-cond did not wake for generation %lu (at %lu)", gen, th[T_COND].progress);
        char msg[32];
        int len = snprintf(msg, sizeof msg, "ping %lu\n", ++ping);
        if (write(sv[1], msg, (size_t) len) != len) fail(&v, "write(socketpair): %s", strerror(errno));
        else if (!await_progress(T_READ, ping, 2000)) fail(&v, "mt-read did not read ping %lu (at %lu)", ping, th[T_READ].progress);
        for (int i = 0; i < NT; i++) if (th[i].broken) fail(&v, "%s", th[i].failure);
        char detail[320];
        snprintf(detail, sizeof detail, "pid=%d threads=%d tids=%s generation=%lu ping=%lu", (int) pid, NT, tids, gen, ping);
        report(&v, detail);
    }
}
