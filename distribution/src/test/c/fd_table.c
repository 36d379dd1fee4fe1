/*
 * fd_table <workdir> [thread]: tasks that share kernel tables a restore would split.
 *
 * Default: the main process clone()s a child with CLONE_FILES (no CLONE_VM): both have one fd table. The child waits
 * for requests in a shared page: on request it opens `from-child` (workdir) and reports the fd; the parent checks
 * that the same number is open in its own table on the same file; the parent opens `from-parent` and the child
 * checks it sees it.
 * With `thread`: a thread that called unshare(CLONE_FILES) (its own fd table) and opened `thread-only`, which the
 * main thread must not see.
 * Prints `READY pid=<pid> [child=<pid>|tid=<tid>] fd=<n>` (the fd the other task opened), `tick N`, and on SIGUSR2
 * `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

struct shared {
    volatile int request;
    volatile int answered;
    volatile int fd;
    volatile int check_fd;
    volatile int seen;
};

static struct shared *sh;

static int same_file(int fd, const char *path) {
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static int child_main(void *arg) {
    (void) arg;
    int served = 0;
    for (;;) {
        int want = __atomic_load_n(&sh->request, __ATOMIC_SEQ_CST);
        if (want != served) {
            served = want;
            sh->seen = same_file(sh->check_fd, "from-parent");
            int fd = open("from-child", O_RDONLY | O_CLOEXEC);
            sh->fd = fd;
            __atomic_store_n(&sh->answered, served, __ATOMIC_SEQ_CST);
            /* the parent checks it, then closes it (in the one table) */
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (getppid() == 1) _exit(0);
    }
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

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s <workdir> [thread]\n", argv[0]);
        return 2;
    }
    int thread_mode = argc == 3 && strcmp(argv[2], "thread") == 0;
    if (chdir(argv[1]) != 0) die("chdir(workdir)");
    touch("from-child");
    touch("from-parent");
    touch("thread-only");
    sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) die("mmap");
    sh->fd = -1;
    install(SIGUSR2, on_verify_signal);

    pid_t child = 0;
    if (thread_mode) {
        pthread_t t;
        if (pthread_create(&t, NULL, thread_main, NULL) != 0) die("pthread_create");
        while (thread_tid == 0) sleep_ms(5);
        say("READY pid=%d tid=%d fd=%d", (int) real_getpid(), (int) thread_tid, sh->fd);
    } else {
        size_t stack_size = 256 * 1024;
        char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (stack == MAP_FAILED) die("mmap(stack)");
        child = clone(child_main, stack + stack_size, CLONE_FILES | SIGCHLD, NULL);
        if (child < 0) die("clone(CLONE_FILES)");
        say("READY pid=%d child=%d fd=-1", (int) real_getpid(), (int) child);
    }

    unsigned long counter = 0, verifies = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (thread_mode) {
            if (fcntl(sh->fd, F_GETFD) >= 0 && same_file(sh->fd, "thread-only")) {
                fail(&v, "the main thread sees fd %d the unshared thread opened", sh->fd);
            }
        } else {
            int mine = open("from-parent", O_RDONLY | O_CLOEXEC);
            sh->check_fd = mine;
            int req = ++sh->request;
            uint64_t deadline = monotonic_ns() + 5000000000ull;
            while (__atomic_load_n(&sh->answered, __ATOMIC_SEQ_CST) != req && monotonic_ns() < deadline) {
                struct timespec ts = {0, 2 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
            if (sh->answered != req) {
                fail(&v, "the CLONE_FILES child did not answer");
            } else {
                if (!sh->seen) fail(&v, "the child does not see fd %d the parent opened", mine);
                if (sh->fd < 0 || !same_file(sh->fd, "from-child")) {
                    fail(&v, "the parent does not see fd %d the child opened", sh->fd);
                }
                close(sh->fd);
            }
            close(mine);
        }
        verifies++;
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu verifies=%lu", (int) real_getpid(), counter, verifies);
        report(&v, detail);
    }
}
