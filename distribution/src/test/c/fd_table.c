/*
 * fd_table <workdir> [children|siblings|thread|fs|vm|sighand]: tasks that share fd tables (clone with CLONE_FILES)
 * or not, or share other tables between processes.
 *
 * Default: the main process clone()s one helper child with CLONE_FILES (no CLONE_VM): both have one fd table.
 * `children`: two helpers cloned with CLONE_FILES, a grandchild the first helper clones with CLONE_FILES (all four
 *   share the parent's table), and a helper created by fork (its own table: the reverse check).
 * `siblings`: two helpers cloned with CLONE_FILES, then the parent calls unshare(CLONE_FILES): the helpers share a
 *   table their parent no longer has.
 * `fs`, `vm`, `sighand`: one helper cloned with CLONE_FILES|CLONE_FS, CLONE_VM, CLONE_VM|CLONE_SIGHAND.
 * `thread`: a thread that called unshare(CLONE_FILES) (its own fd table) and opened `thread-only`, which the main
 *   thread must not see.
 *
 * The check (SIGUSR2), per helper in turn, over a shared page: the parent opens `from-parent` and asks the helper;
 * the helper says whether it sees that fd, whether the fd it opened in the previous round is still open (the parent
 * closed it there: gone in a shared table, still open in an own table), opens `from-child` and reports the number;
 * the parent checks whether it sees that fd on `from-child` and, in a shared table, closes it. A helper sharing the
 * parent's table must see everything; one with its own table nothing.
 * Prints `READY pid=<pid> [child=<pid> child2=<pid> grandchild=<pid> forked=<pid>|tid=<tid>] fd=<n>`, `tick N`, and
 * on SIGUSR2 `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* What a helper's table is to the parent's. */
enum table { SHARED, OWN, SIBLINGS };

#define MAX_HELPERS 4

struct slot {
    volatile int request;
    volatile int answered;
    volatile int fd;         /* the fd the helper opened on from-child */
    volatile int check_fd;   /* the fd the parent opened on from-parent */
    volatile int seen;       /* the helper sees check_fd on from-parent */
    volatile int prev_open;  /* the helper's fd of the previous round is still open on from-child; -1: first round */
    volatile pid_t pid;
    enum table table;
};

struct shared {
    struct slot slots[MAX_HELPERS];
    volatile int fd;
};

static struct shared *sh;
static pid_t parent_pid;

static int same_file(int fd, const char *path) {
    struct stat a, b;
    return fd >= 0 && fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static pid_t spawn(int (*fn)(void *), void *arg, int flags) {
    size_t stack_size = 256 * 1024;
    char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED) die("mmap(stack)");
    pid_t p = clone(fn, stack + stack_size, flags | SIGCHLD, arg);
    if (p < 0) die("clone");
    return p;
}

/* Serves the checks of one slot until its parent is gone. */
static void serve(struct slot *s) {
    pid_t ppid = getppid();
    int served = 0, prev = -1;
    s->pid = real_getpid();
    for (;;) {
        int want = __atomic_load_n(&s->request, __ATOMIC_SEQ_CST);
        if (want != served) {
            served = want;
            s->seen = same_file(s->check_fd, "from-parent");
            s->prev_open = prev < 0 ? -1 : same_file(prev, "from-child");
            if (s->table != SHARED && prev >= 0) close(prev);   /* nobody else closes it in its own table */
            prev = open("from-child", O_RDONLY | O_CLOEXEC);
            s->fd = prev;
            __atomic_store_n(&s->answered, served, __ATOMIC_SEQ_CST);
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (getppid() != ppid) _exit(0);
    }
}

static int helper_main(void *arg) {
    serve(&sh->slots[(int) (intptr_t) arg]);
    return 0;
}

/* The first helper of `children`: clones the grandchild (slot 3) into the table it shares, then serves slot 0. */
static int helper_with_grandchild(void *arg) {
    (void) arg;
    spawn(helper_main, (void *) (intptr_t) 3, CLONE_FILES);
    serve(&sh->slots[0]);
    return 0;
}

static volatile pid_t thread_tid;

static void *thread_main(void *arg) {
    (void) arg;
    if (unshare(CLONE_FILES) != 0) {
        say("SETUP FAIL unshare(CLONE_FILES): %s", strerror(errno));
        exit(1);
    }
    int fd = open("thread-only", O_RDONLY | O_CLOEXEC);
    sh->fd = fd;
    thread_tid = (pid_t) syscall(SYS_gettid);
    for (;;) pause();
    return NULL;
}

static void touch(const char *name) {
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) die("create");
    close(fd);
}

/* Runs one check with the helper of slot `i`. */
static void check_slot(struct verdict *v, int i) {
    struct slot *s = &sh->slots[i];
    int mine = open("from-parent", O_RDONLY | O_CLOEXEC);
    s->check_fd = mine;
    int req = ++s->request;
    uint64_t deadline = monotonic_ns() + 5000000000ull;
    while (__atomic_load_n(&s->answered, __ATOMIC_SEQ_CST) != req && monotonic_ns() < deadline) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int shared = s->table == SHARED;
    if (s->answered != req) {
        fail(v, "helper %d (pid %d) did not answer", i, (int) s->pid);
    } else {
        int parent_sees = same_file(s->fd, "from-child");
        if (s->seen != shared) {
            fail(v, "helper %d (pid %d) %s fd %d the parent opened", i, (int) s->pid,
                 s->seen ? "sees" : "does not see", mine);
        }
        if (parent_sees != shared) {
            fail(v, "the parent %s fd %d helper %d (pid %d) opened", parent_sees ? "sees" : "does not see", s->fd,
                 i, (int) s->pid);
        }
        if (s->table != SIBLINGS && s->prev_open >= 0 && s->prev_open == shared) {
            fail(v, "helper %d (pid %d): its fd of the last check is %s", i, (int) s->pid,
                 shared ? "still open after the parent closed it" : "closed, though only the parent closed it");
        }
        if (shared) close(s->fd);
    }
    close(mine);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s <workdir> [children|siblings|thread|fs|vm|sighand]\n", argv[0]);
        return 2;
    }
    const char *mode = argc == 3 ? argv[2] : "";
    int thread_mode = strcmp(mode, "thread") == 0;
    if (chdir(argv[1]) != 0) die("chdir(workdir)");
    touch("from-child");
    touch("from-parent");
    touch("thread-only");
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) die("mmap");
    sh->fd = -1;
    install(SIGUSR2, on_verify_signal);
    parent_pid = real_getpid();

    int helpers = 0;
    if (thread_mode) {
        pthread_t t;
        if (pthread_create(&t, NULL, thread_main, NULL) != 0) die("pthread_create");
        while (thread_tid == 0) sleep_ms(5);
        say("READY pid=%d tid=%d fd=%d", (int) parent_pid, (int) thread_tid, sh->fd);
    } else if (strcmp(mode, "children") == 0) {
        helpers = 4;
        sh->slots[0].table = sh->slots[1].table = sh->slots[3].table = SHARED;
        sh->slots[2].table = OWN;
        spawn(helper_with_grandchild, NULL, CLONE_FILES);
        spawn(helper_main, (void *) (intptr_t) 1, CLONE_FILES);
        spawn(helper_main, (void *) (intptr_t) 2, 0);
    } else if (strcmp(mode, "siblings") == 0) {
        helpers = 2;
        sh->slots[0].table = sh->slots[1].table = SIBLINGS;
        spawn(helper_main, (void *) (intptr_t) 0, CLONE_FILES);
        spawn(helper_main, (void *) (intptr_t) 1, CLONE_FILES);
        if (unshare(CLONE_FILES) != 0) die("unshare(CLONE_FILES)");
    } else {
        /* one helper, created with the clone flags of the mode */
        static const struct { const char *name; int flags; enum table table; } singles[] = {
            {"", CLONE_FILES, SHARED},
            {"fs", CLONE_FILES | CLONE_FS, SHARED},
            {"vm", CLONE_VM, OWN},
            {"sighand", CLONE_VM | CLONE_SIGHAND, OWN},
        };
        size_t i = 0;
        while (i < sizeof singles / sizeof singles[0] && strcmp(singles[i].name, mode) != 0) i++;
        if (i == sizeof singles / sizeof singles[0]) {
            fprintf(stderr, "unknown mode %s\n", mode);
            return 2;
        }
        helpers = 1;
        sh->slots[0].table = singles[i].table;
        spawn(helper_main, (void *) (intptr_t) 0, singles[i].flags);
    }
    if (!thread_mode) {
        for (int i = 0; i < helpers; i++) {
            while (sh->slots[i].pid == 0) sleep_ms(5);
        }
        say("READY pid=%d child=%d child2=%d grandchild=%d forked=%d fd=-1", (int) parent_pid,
            (int) sh->slots[0].pid, (int) sh->slots[1].pid, (int) sh->slots[3].pid, (int) sh->slots[2].pid);
    }

    unsigned long counter = 0, verifies = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (thread_mode) {
            if (fcntl(sh->fd, F_GETFD) >= 0 && same_file(sh->fd, "thread-only")) {
                fail(&v, "the main thread sees fd %d the unshared thread opened", sh->fd);
            }
        }
        for (int i = 0; i < helpers; i++) check_slot(&v, i);
        verifies++;
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu verifies=%lu", (int) parent_pid, counter, verifies);
        report(&v, detail);
    }
}
