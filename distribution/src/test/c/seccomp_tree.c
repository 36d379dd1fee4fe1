/*
 * seccomp_tree <workdir>: a parent (no seccomp) with three children under seccomp:
 *   strict   seccomp strict mode; answers 'p' on a pipe with 'P'; on 'x' it calls getppid(), which strict mode
 *            punishes with SIGKILL (the probe)
 *   mixed    no_new_privs; filter 1 (uname -> EXDEV) on both threads (TSYNC), filter 2 (getppid -> ECHRNG,
 *            SECCOMP_FILTER_FLAG_LOG) on the main thread only: the threads' filters differ
 *   shared   no_new_privs; filters 1 and 2 on both threads with TSYNC; the probe adds filter 3 (sysinfo -> ERANGE)
 *            with TSYNC, which works only if both threads still share the same filters
 * On SIGUSR2 every process and thread checks its own seccomp state (the threads through a shared page, the strict
 * child over its pipes); the parent checks it has none (reverse) and prints `VERDICT PASS|FAIL`. On SIGUSR1 the
 * parent runs the probe and prints `PROBE PASS|FAIL ...`.
 * Prints `READY pid=<pid> strict=<pid> mixed=<pid> shared=<pid>`, `tick N`.
 */
#include "workload.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

struct shared {
    struct check mixed_main, mixed_thread, shared_main, shared_thread, shared_probe;
    volatile int threads_up;
};

static struct shared *sh;
static volatile sig_atomic_t probe_requested;

static void on_probe_signal(int sig) {
    (void) sig;
    probe_requested = 1;
}

static long install_filter(int nr, int err, unsigned flags) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned) nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned) err),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog p = {sizeof f / sizeof f[0], f};
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p);
}

/* The value of `key` in /proc/thread-self/status, -1 if absent. */
static int status_field(const char *key) {
    char buf[8192];
    int fd = open("/proc/thread-self/status", O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    size_t kl = strlen(key);
    for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, kl) == 0 && l[kl] == ':') return atoi(l + kl + 1);
    }
    return -1;
}

/* errno of a raw syscall, 0 if it succeeded. */
static int err_of(long r) {
    return r < 0 ? errno : 0;
}

static void expect_filters(struct verdict *v, const char *who, int filters, int uname_err, int getppid_err, int sysinfo_err) {
    struct utsname u;
    struct sysinfo si;
    if (status_field("Seccomp") != 2) fail(v, "%s: Seccomp %d", who, status_field("Seccomp"));
    if (status_field("Seccomp_filters") != filters) fail(v, "%s: %d filters instead of %d", who, status_field("Seccomp_filters"), filters);
    if (status_field("NoNewPrivs") != 1) fail(v, "%s: no_new_privs lost", who);
    int e = err_of(syscall(SYS_uname, &u));
    if (e != uname_err) fail(v, "%s: uname errno %d instead of %d", who, e, uname_err);
    e = err_of(syscall(SYS_getppid));
    if (e != getppid_err) fail(v, "%s: getppid errno %d instead of %d", who, e, getppid_err);
    e = err_of(syscall(SYS_sysinfo, &si));
    if (e != sysinfo_err) fail(v, "%s: sysinfo errno %d instead of %d", who, e, sysinfo_err);
    if (syscall(SYS_getpid) <= 0) fail(v, "%s: getpid failed", who);
}

static void answer(struct check *c, struct verdict *v, int req) {
    snprintf(c->result, sizeof c->result, "%.1000s", v->len ? v->failures : "ok");
    __atomic_store_n(&c->answered, req, __ATOMIC_SEQ_CST);
}

static int pending(struct check *c) {
    int req = __atomic_load_n(&c->request, __ATOMIC_SEQ_CST);
    return req != c->answered ? req : 0;
}

static volatile int shared_probed;

static void check_mixed_main(struct verdict *v) { expect_filters(v, "mixed main", 2, EXDEV, ECHRNG, 0); }
static void check_mixed_thread(struct verdict *v) { expect_filters(v, "mixed thread", 1, EXDEV, 0, 0); }
static void check_shared_main(struct verdict *v) { expect_filters(v, "shared main", shared_probed ? 3 : 2, EXDEV, ECHRNG, shared_probed ? ERANGE : 0); }
static void check_shared_thread(struct verdict *v) { expect_filters(v, "shared thread", shared_probed ? 3 : 2, EXDEV, ECHRNG, shared_probed ? ERANGE : 0); }

static void probe_shared(struct verdict *v) {
    long r = install_filter(SYS_sysinfo, ERANGE, SECCOMP_FILTER_FLAG_TSYNC);
    if (r != 0) fail(v, "shared: TSYNC of a third filter returned %ld (errno %d): the threads no longer share their filters", r, errno);
    else shared_probed = 1;
}

struct server {
    struct check *c;
    void (*check)(struct verdict *);
    struct check *c2;
    void (*check2)(struct verdict *);
};

static void serve(struct server *s) {
    for (;;) {
        int req = pending(s->c);
        if (req) {
            struct verdict v = {0};
            s->check(&v);
            answer(s->c, &v, req);
        }
        if (s->c2 && (req = pending(s->c2))) {
            struct verdict v = {0};
            s->check2(&v);
            answer(s->c2, &v, req);
        }
        usleep(10000);
    }
}

static void *thread_main(void *arg) {
    __atomic_add_fetch(&sh->threads_up, 1, __ATOMIC_SEQ_CST);
    serve(arg);
    return NULL;
}

/*
 * A child with no_new_privs and a second thread, each answering its own checks (`thread` on the second thread, `main`
 * on the main thread): once the children's second threads number `threads_up`, filter 1 goes on both threads (TSYNC)
 * and filter 2 with `filter2_flags` (`filter2_what` names it if it fails).
 */
static void run_filtered(struct server *thread, int threads_up, unsigned filter2_flags, const char *filter2_what,
                         struct server *main_thread) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("no_new_privs");
    pthread_t th;
    if (pthread_create(&th, NULL, thread_main, thread) != 0) die("pthread_create");
    while (sh->threads_up < threads_up) usleep(1000);
    if (install_filter(SYS_uname, EXDEV, SECCOMP_FILTER_FLAG_TSYNC) != 0) die("filter 1 (TSYNC)");
    if (install_filter(SYS_getppid, ECHRNG, filter2_flags) != 0) die(filter2_what);
    serve(main_thread);
}

/* filter 2 on the main thread only */
static void run_mixed(void) {
    static struct server t, m;
    t = (struct server) {.c = &sh->mixed_thread, .check = check_mixed_thread};
    m = (struct server) {.c = &sh->mixed_main, .check = check_mixed_main};
    run_filtered(&t, 1, SECCOMP_FILTER_FLAG_LOG, "filter 2", &m);
}

/* filter 2 on both threads; the main thread also runs the probe */
static void run_shared(void) {
    static struct server t, m;
    t = (struct server) {.c = &sh->shared_thread, .check = check_shared_thread};
    m = (struct server) {.c = &sh->shared_main, .check = check_shared_main, .c2 = &sh->shared_probe,
                         .check2 = probe_shared};
    run_filtered(&t, 2, SECCOMP_FILTER_FLAG_TSYNC, "filter 2 (TSYNC)", &m);
}

static void run_strict(int req, int resp) {
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) != 0) die("strict mode");
    char c;
    for (;;) {
        if (read(req, &c, 1) != 1) continue;
        if (c == 'x') syscall(SYS_getppid);
        c = c == 'p' ? 'P' : '?';
        if (write(resp, &c, 1) != 1) continue;
    }
}

static int req_pipe[2], resp_pipe[2];

/* Sends `c` to the strict child; returns its one-byte answer, or 0 when none came within 5 s. */
static char ping_strict(char c) {
    if (write(req_pipe[1], &c, 1) != 1) return 0;
    struct pollfd p = {resp_pipe[0], POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return 0;
    char r = 0;
    if (read(resp_pipe[0], &r, 1) != 1) return 0;
    return r;
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) die("mmap");
    if (pipe(req_pipe) != 0 || pipe(resp_pipe) != 0) die("pipe");
    pid_t pid = real_getpid();
    pid_t strict = fork_or_die("fork");
    if (strict == 0) run_strict(req_pipe[0], resp_pipe[1]);
    pid_t mixed = fork_or_die("fork");
    if (mixed == 0) run_mixed();
    while (sh->threads_up < 1) usleep(1000);
    pid_t shared = fork_or_die("fork");
    if (shared == 0) run_shared();
    while (sh->threads_up < 2) usleep(1000);
    install(SIGUSR2, on_verify_signal);
    install(SIGUSR1, on_probe_signal);
    struct verdict setup = {0};
    ask_checker(&sh->mixed_main, "mixed main", &setup);
    ask_checker(&sh->shared_main, "shared main", &setup);
    exit_if_setup_failed(&setup);
    say("READY pid=%d strict=%d mixed=%d shared=%d", (int) pid, (int) strict, (int) mixed, (int) shared);
    unsigned long counter = 0;
    for (;;) {
        counter++;
        say("tick %lu", counter);
        sleep_ms(100);
        if (probe_requested) {
            probe_requested = 0;
            struct verdict v = {0};
            char r = ping_strict('x');
            int st = 0;
            pid_t w = waitpid(strict, &st, 0);
            if (r != 0) fail(&v, "strict: getppid() was answered ('%c'): strict mode no longer applies", r);
            if (w != strict || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) fail(&v, "strict: not killed by SIGKILL (waitpid %d status 0x%x)", (int) w, st);
            ask_checker(&sh->shared_probe, "shared probe", &v);
            ask_checker(&sh->shared_main, "shared main", &v);
            ask_checker(&sh->shared_thread, "shared thread", &v);
            if (v.len == 0) say("PROBE PASS strict killed by SIGKILL, TSYNC of a third filter worked");
            else say("PROBE FAIL %s", v.failures);
        }
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;
        struct verdict v = {0};
        struct utsname u;
        if (real_getpid() != pid) fail(&v, "pid changed");
        if (status_field("Seccomp") != 0) fail(&v, "parent: Seccomp %d appeared", status_field("Seccomp"));
        if (status_field("NoNewPrivs") != 0) fail(&v, "parent: no_new_privs appeared");
        if (syscall(SYS_uname, &u) != 0) fail(&v, "parent: uname failed: %s", strerror(errno));
        if (ping_strict('p') != 'P') fail(&v, "strict child %d did not answer its ping", (int) strict);
        ask_checker(&sh->mixed_main, "mixed main", &v);
        ask_checker(&sh->mixed_thread, "mixed thread", &v);
        ask_checker(&sh->shared_main, "shared main", &v);
        ask_checker(&sh->shared_thread, "shared thread", &v);
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu", (int) pid, counter);
        report(&v, detail);
    }
}
