/*
 * tree_sessions <workdir> [plain|unhandled]: a 7-process tree of depth 3 with two sessions and four process groups.
 *
 *   root "tree_sessions"  session leader (the harness starts it with setsid), group root
 *   ├── a   "ts-a"        setpgid(0, 0): group a
 *   │   ├── a2 "ts-a2"    setpgid(0, 0): group a2          (forked first)
 *   │   └── a1 "ts-a1"    setpgid(0, a2): joins its sibling's group
 *   └── s   "ts-s"        setsid(): session s, group s
 *       └── s1 "ts-s1"    setpgid(0, 0): group s1 in session s
 *           └── s11 "ts-s11"  inherits group s1 and session s
 *
 * Every process records its pid, ppid, pgid, sid and name in a MAP_SHARED|MAP_ANONYMOUS mailbox (created by the
 * root before the first fork). On SIGUSR2 the root posts a request number; every other process (polling every
 * 10 ms) checks getpid/getppid/getpgid/getsid and its comm against what it recorded and answers; the root checks
 * itself, its two children (still its live children) and all six answers, and prints VERDICT PASS only if all
 * agree. With `unhandled`, s11 also holds a userfaultfd at fd 42 (no plugin handles it: the dump must be refused) and
 * checks at each request that fd 42 is still that userfaultfd. A child exits when its recorded parent is gone.
 * Prints `READY pid=<root> a=.. a2=.. a1=.. s=.. s1=.. s11=..` (+ `bad_pid=<s11> bad_fd=42` with unhandled),
 * `tick N`, and `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

enum { ROOT, A, A2, A1, S, S1, S11, NPROC };
static const char *const NAMES[NPROC] = {"tree_sessions", "ts-a", "ts-a2", "ts-a1", "ts-s", "ts-s1", "ts-s11"};
#define BAD_FD 42

struct slot {
    pid_t pid, ppid, pgid, sid;
    volatile int set_up;
    volatile uint64_t answered;
    volatile int ok;
    char failure[400];
};

struct mailbox {
    volatile uint64_t request;
    struct slot slots[NPROC];
};

static struct mailbox *mb;
static int with_unhandled;

static void record(int idx) {
    struct slot *s = &mb->slots[idx];
    s->pid = real_getpid();
    s->ppid = getppid();
    s->pgid = getpgid(0);
    s->sid = getsid(0);
    __atomic_store_n(&s->set_up, 1, __ATOMIC_RELEASE);
}

/* Compares what the process sees now with its recorded slot; appends failures to v. */
static void check_self(int idx, struct verdict *v) {
    struct slot *s = &mb->slots[idx];
    pid_t pid = real_getpid(), ppid = getppid(), pgid = getpgid(0), sid = getsid(0);
    if (pid != s->pid) fail(v, "%s: pid %d, recorded %d", NAMES[idx], (int) pid, (int) s->pid);
    /* the root's parent is whoever started or restored it */
    if (idx != ROOT && ppid != s->ppid) fail(v, "%s: ppid %d, recorded %d", NAMES[idx], (int) ppid, (int) s->ppid);
    if (pgid != s->pgid) fail(v, "%s: pgid %d, recorded %d", NAMES[idx], (int) pgid, (int) s->pgid);
    if (sid != s->sid) fail(v, "%s: sid %d, recorded %d", NAMES[idx], (int) sid, (int) s->sid);
    char comm[17] = {0};
    if (prctl(PR_GET_NAME, comm, 0, 0, 0) != 0) fail(v, "%s: PR_GET_NAME: %s", NAMES[idx], strerror(errno));
    else if (strncmp(comm, NAMES[idx], 15) != 0) fail(v, "%s: comm is \"%s\"", NAMES[idx], comm);
    if (with_unhandled && idx == S11) {
        char link[64] = {0};
        if (readlink("/proc/self/fd/42", link, sizeof link - 1) < 0 || strcmp(link, "anon_inode:[userfaultfd]") != 0)
            fail(v, "s11: fd 42 is \"%s\", not its userfaultfd", link);
    }
}

/* Answers the root's requests until the recorded parent is gone. */
static void child_loop(int idx) {
    struct slot *s = &mb->slots[idx];
    for (;;) {
        if (getppid() != s->ppid && kill(s->ppid, 0) != 0) _exit(0);
        uint64_t req = __atomic_load_n(&mb->request, __ATOMIC_ACQUIRE);
        if (req != 0 && req != s->answered) {
            struct verdict v = {0};
            check_self(idx, &v);
            memcpy(s->failure, v.failures, sizeof s->failure - 1);
            s->ok = v.len == 0;
            __atomic_store_n(&s->answered, req, __ATOMIC_RELEASE);
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* fork(); the child renames itself, runs `setup`, records its slot and (unless it forks more) enters child_loop. */
static pid_t spawn(int idx, void (*setup)(void)) {
    pid_t c = fork();
    if (c < 0) die("fork");
    if (c == 0) {
        if (prctl(PR_SET_NAME, NAMES[idx], 0, 0, 0) != 0) die("PR_SET_NAME");
        setup();
        child_loop(idx);
    }
    return c;
}

static void setup_a2(void) {
    if (setpgid(0, 0) != 0) die("a2 setpgid(0, 0)");
    record(A2);
}

static void setup_a1(void) {
    while (!__atomic_load_n(&mb->slots[A2].set_up, __ATOMIC_ACQUIRE)) sleep_ms(1);
    if (setpgid(0, mb->slots[A2].pid) != 0) die("a1 setpgid(0, a2)");
    record(A1);
}

static void setup_a(void) {
    if (setpgid(0, 0) != 0) die("a setpgid(0, 0)");
    record(A);
    spawn(A2, setup_a2);
    spawn(A1, setup_a1);
}

static void setup_s11(void) {
    if (with_unhandled) {
        int fd = (int) syscall(SYS_userfaultfd, O_CLOEXEC);
        if (fd < 0) die("userfaultfd");
        if (dup2(fd, BAD_FD) != BAD_FD) die("dup2(userfaultfd, 42)");
        close(fd);
    }
    record(S11);
}

static void setup_s1(void) {
    if (setpgid(0, 0) != 0) die("s1 setpgid(0, 0)");
    record(S1);
    spawn(S11, setup_s11);
}

static void setup_s(void) {
    if (setsid() < 0) die("setsid");
    record(S);
    spawn(S1, setup_s1);
}

/* The layout the tree was built to have; a SETUP FAIL if the kernel disagrees before any dump. */
static void check_layout(void) {
    struct slot *sl = mb->slots;
    struct { int who, pgid_of, sid_of, parent; } want[NPROC] = {
        {ROOT, ROOT, ROOT, -1}, {A, A, ROOT, ROOT}, {A2, A2, ROOT, A}, {A1, A2, ROOT, A},
        {S, S, S, ROOT}, {S1, S1, S, S}, {S11, S1, S, S1}};
    for (int i = 0; i < NPROC; i++) {
        struct slot *s = &sl[want[i].who];
        if (s->pgid != sl[want[i].pgid_of].pid || s->sid != sl[want[i].sid_of].pid
            || (want[i].parent >= 0 && s->ppid != sl[want[i].parent].pid)) {
            say("SETUP FAIL %s: pid %d ppid %d pgid %d sid %d", NAMES[i], (int) s->pid, (int) s->ppid, (int) s->pgid,
                (int) s->sid);
            exit(1);
        }
    }
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 2, "[plain|unhandled]");
    with_unhandled = argc == 3 && strcmp(argv[2], "unhandled") == 0;
    if (getsid(0) != real_getpid()) {
        say("SETUP FAIL the root must be a session leader (start it with setsid)");
        return 1;
    }
    mb = mmap(NULL, sizeof *mb, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mb == MAP_FAILED) die("mmap(shared anonymous)");
    install(SIGUSR2, on_verify_signal);
    record(ROOT);
    pid_t a = spawn(A, setup_a);
    pid_t s = spawn(S, setup_s);
    uint64_t deadline = monotonic_ns() + 5000000000ull;
    for (int i = 0; i < NPROC; i++) {
        while (!__atomic_load_n(&mb->slots[i].set_up, __ATOMIC_ACQUIRE)) {
            if (monotonic_ns() > deadline) {
                say("SETUP FAIL %s did not set up within 5 s", NAMES[i]);
                return 1;
            }
            sleep_ms(1);
        }
    }
    check_layout();
    struct slot *sl = mb->slots;
    char bad[64] = "";
    if (with_unhandled) snprintf(bad, sizeof bad, " bad_pid=%d bad_fd=%d", (int) sl[S11].pid, BAD_FD);
    say("READY pid=%d a=%d a2=%d a1=%d s=%d s1=%d s11=%d%s", (int) sl[ROOT].pid, (int) sl[A].pid, (int) sl[A2].pid,
        (int) sl[A1].pid, (int) sl[S].pid, (int) sl[S1].pid, (int) sl[S11].pid, bad);

    unsigned long counter = 0;
    uint64_t request = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        check_self(ROOT, &v);
        pid_t kids[2] = {a, s};
        for (int i = 0; i < 2; i++) {
            int st;
            pid_t w = waitpid(kids[i], &st, WNOHANG);
            if (w != 0) fail(&v, "child %d is no longer a live child (waitpid=%d)", (int) kids[i], (int) w);
        }
        request++;
        __atomic_store_n(&mb->request, request, __ATOMIC_RELEASE);
        uint64_t until = monotonic_ns() + 5000000000ull;
        for (int i = 1; i < NPROC; i++) {
            while (__atomic_load_n(&sl[i].answered, __ATOMIC_ACQUIRE) != request && monotonic_ns() < until) {
                struct timespec ts = {0, 5 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
            if (sl[i].answered != request) fail(&v, "%s (pid %d) did not answer request %llu within 5 s", NAMES[i],
                                                (int) sl[i].pid, (unsigned long long) request);
            else if (!sl[i].ok) fail(&v, "%s", sl[i].failure);
        }
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d procs=%d request=%llu counter=%lu", (int) sl[ROOT].pid, NPROC,
                 (unsigned long long) request, counter);
        report(&v, detail);
    }
}
