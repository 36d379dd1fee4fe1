/*
 * tree_forker <workdir> forker|zombie: trees whose shape changes under cryo.
 *
 * forker: the root forks "tf-forker", which forks a child that _exit(7)s at once and reaps it with waitpid, in a
 *   tight loop (a dump freezes it at any point: before the fork, with a live child, with a child exiting). It
 *   counts rounds in a MAP_SHARED|MAP_ANONYMOUS area and records the first failure (fork error, waitpid returning
 *   something else than the child, a status other than exit 7). A second child "tf-steady" only ticks the area.
 * zombie: the root forks "tf-zombie", which exits with status 3 at once and is never reaped, and "tf-steady".
 *
 * On SIGUSR2 the root checks that its live children are still its children, that they make progress (forker: the
 * round counter advances and no failure was recorded; steady: its counter advances), and in zombie mode that the
 * zombie is still an unreaped zombie of the root (/proc/<pid>/stat state Z, ppid root). Children exit when the root
 * is gone. Prints `READY pid=<root> forker=<pid>|zombie=<pid> steady=<pid>`, `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

struct area {
    volatile uint64_t rounds;
    volatile uint64_t steady;
    volatile int failed;
    char failure[200];
};

static struct area *ar;

static void forker_loop(pid_t root) {
    prctl(PR_SET_NAME, "tf-forker", 0, 0, 0);
    for (;;) {
        if (getppid() != root) _exit(0);
        pid_t c = fork();
        if (c < 0) {
            if (!ar->failed) snprintf(ar->failure, sizeof ar->failure, "forker: fork: %s", strerror(errno));
            ar->failed = 1;
            sleep_ms(10);
            continue;
        }
        if (c == 0) _exit(7);
        int st = 0;
        pid_t w;
        do {
            w = waitpid(c, &st, 0);
        } while (w < 0 && errno == EINTR);
        if (w != c || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
            if (!ar->failed)
                snprintf(ar->failure, sizeof ar->failure, "forker: waitpid(%d) returned %d status %#x (%s)", (int) c,
                         (int) w, st, w < 0 ? strerror(errno) : "ok");
            ar->failed = 1;
        }
        __atomic_add_fetch(&ar->rounds, 1, __ATOMIC_RELEASE);
    }
}

static void steady_loop(pid_t root) {
    prctl(PR_SET_NAME, "tf-steady", 0, 0, 0);
    for (;;) {
        if (getppid() != root) _exit(0);
        __atomic_add_fetch(&ar->steady, 1, __ATOMIC_RELEASE);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static char state_of(pid_t pid, pid_t *ppid) {
    char st;
    return proc_state(pid, &st, ppid) == 0 ? st : '-';
}

static int advanced(volatile uint64_t *counter, uint64_t from, unsigned ms) {
    uint64_t until = monotonic_ns() + (uint64_t) ms * 1000000ull;
    while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) <= from && monotonic_ns() < until) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return *counter > from;
}

int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[2], "forker") != 0 && strcmp(argv[2], "zombie") != 0)) {
        fprintf(stderr, "usage: %s <workdir> forker|zombie\n", argv[0]);
        return 2;
    }
    if (chdir(argv[1]) != 0) die("chdir(workdir)");
    int zombie_mode = strcmp(argv[2], "zombie") == 0;
    ar = mmap(NULL, sizeof *ar, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ar == MAP_FAILED) die("mmap(shared anonymous)");
    install(SIGUSR2, on_verify_signal);
    pid_t root = real_getpid();
    pid_t odd = fork();
    if (odd < 0) die("fork");
    if (odd == 0) {
        if (zombie_mode) {
            prctl(PR_SET_NAME, "tf-zombie", 0, 0, 0);
            _exit(3);
        }
        forker_loop(root);
    }
    pid_t steady = fork();
    if (steady < 0) die("fork");
    if (steady == 0) steady_loop(root);

    pid_t pp;
    if (zombie_mode) {
        while (state_of(odd, &pp) != 'Z') sleep_ms(1);
    } else {
        while (ar->rounds < 100) sleep_ms(1);
    }
    while (ar->steady == 0) sleep_ms(1);
    say("READY pid=%d %s=%d steady=%d", (int) root, zombie_mode ? "zombie" : "forker", (int) odd, (int) steady);

    unsigned long counter = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (real_getpid() != root) fail(&v, "pid changed");
        int st;
        pid_t w = waitpid(steady, &st, WNOHANG);
        if (w != 0) fail(&v, "tf-steady %d is no longer a live child (waitpid=%d)", (int) steady, (int) w);
        if (!advanced(&ar->steady, ar->steady, 1000)) fail(&v, "tf-steady stopped at %llu", (unsigned long long) ar->steady);
        if (zombie_mode) {
            char s = state_of(odd, &pp);
            if (s != 'Z' || pp != root) fail(&v, "tf-zombie %d: state %c ppid %d, expected a zombie child", (int) odd, s, (int) pp);
        } else {
            w = waitpid(odd, &st, WNOHANG);
            if (w != 0) fail(&v, "tf-forker %d is no longer a live child (waitpid=%d)", (int) odd, (int) w);
            if (!advanced(&ar->rounds, ar->rounds, 1000)) fail(&v, "tf-forker stopped at round %llu", (unsigned long long) ar->rounds);
            if (ar->failed) fail(&v, "%s", ar->failure);
        }
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d rounds=%llu steady=%llu", (int) root, (unsigned long long) ar->rounds,
                 (unsigned long long) ar->steady);
        report(&v, detail);
    }
}
