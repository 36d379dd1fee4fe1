/*
 * fd_owner <workdir>: signal-driven I/O on fds of several kinds, with owners of every type; on SIGUSR2 the parent
 * checks that each fd has the owner (F_GETOWN_EX), signal (F_GETSIG) and O_ASYNC it had at setup, and that the
 * signals still reach the right task: it writes into each source and waits for the signal.
 *
 *   pipe P      read end: owner the worker thread (F_OWNER_TID), F_SETSIG SIGRTMIN+1, O_ASYNC; the worker's handler
 *               must see si_fd = P's read fd and run in the worker thread
 *   socket S    socketpair end: owner the process (F_SETOWN getpid()), SIGIO, O_ASYNC
 *   pipe Q      read end: owner the child process (F_OWNER_PID), O_ASYNC; the child counts its SIGIOs in a shared page
 *   file F      a regular file: owner the process group (F_SETOWN -pgid), no O_ASYNC
 *   pipe G      read end: only F_SETSIG SIGUSR1 (no owner, no O_ASYNC)
 *   pipe R      reverse: nothing set, and nothing may appear
 * With `outside`, pipe R's read end sends its SIGIO to the workload's parent, outside its tree (a dump must refuse).
 * With `many`, 100 fds on /dev/null are opened first: the owned fds then come after them, where the dump's read-ahead
 * thread (from 64 fds on) asks their owners ahead of the tracer.
 * Prints `READY pid=<pid> child=<pid> worker=<tid> rfd=<n>`, `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

struct shared {
    volatile int child_sigio;
};

struct fdstate {
    const char *name;
    int fd;
    struct f_owner_ex owner;
    int sig;
    int async;
};

static struct shared *sh;
static volatile pid_t worker_tid;
static volatile int rt_count, rt_fd, rt_tid, io_count, io_code;
static struct fdstate fds[6];
static int nfds;

static void on_rt(int sig, siginfo_t *si, void *ctx) {
    (void) sig;
    (void) ctx;
    rt_fd = si->si_fd;
    rt_tid = (int) syscall(SYS_gettid);
    rt_count++;
}

static void on_io(int sig) {
    (void) sig;
    io_count++;
}

static void on_child_io(int sig) {
    (void) sig;
    __atomic_add_fetch(&sh->child_sigio, 1, __ATOMIC_SEQ_CST);
}

static void *worker(void *arg) {
    (void) arg;
    worker_tid = (pid_t) syscall(SYS_gettid);
    for (;;) pause();
    return NULL;
}

static void state_of(struct fdstate *s) {
    memset(&s->owner, 0, sizeof s->owner);
    fcntl(s->fd, F_GETOWN_EX, &s->owner);
    s->sig = fcntl(s->fd, F_GETSIG);
    s->async = (fcntl(s->fd, F_GETFL) & O_ASYNC) != 0;
}

static void add(const char *name, int fd) {
    fds[nfds].name = name;
    fds[nfds].fd = fd;
    nfds++;
}

/* waits up to 3 s until *counter differs from `before` */
static int await_change(volatile int *counter, int before) {
    for (int i = 0; i < 3000; i++) {
        if (__atomic_load_n(counter, __ATOMIC_SEQ_CST) != before) return 1;
        usleep(1000);
    }
    return 0;
}

static void drain(int fd) {
    char buf[64];
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    while (read(fd, buf, sizeof buf) > 0) {
    }
    fcntl(fd, F_SETFL, fl);
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 2, "[outside|many]");
    if (argc == 3 && strcmp(argv[2], "many") == 0) {
        for (int i = 0; i < 100; i++) {
            if (open("/dev/null", O_RDONLY) < 0) die("open /dev/null");
        }
    }
    sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) die("mmap");
    pid_t parent = real_getpid();
    int p[2], s[2], q[2], g[2], r[2];
    if (pipe(q) != 0) die("pipe Q");
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(0);
        install(SIGIO, on_child_io);
        for (;;) pause();
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGRTMIN + 1, &sa, NULL) != 0) die("sigaction RT");
    install(SIGIO, on_io);
    signal(SIGUSR1, SIG_IGN);

    pthread_t th;
    if (pthread_create(&th, NULL, worker, NULL) != 0) die("pthread_create");
    while (!worker_tid) usleep(1000);

    if (pipe(p) != 0) die("pipe P");
    struct f_owner_ex ox = {F_OWNER_TID, worker_tid};
    if (fcntl(p[0], F_SETOWN_EX, &ox) != 0 || fcntl(p[0], F_SETSIG, SIGRTMIN + 1) != 0
        || fcntl(p[0], F_SETFL, O_ASYNC) != 0) die("fcntl P");

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0) die("socketpair S");
    if (fcntl(s[0], F_SETOWN, (int) parent) != 0 || fcntl(s[0], F_SETFL, O_ASYNC) != 0) die("fcntl S");

    struct f_owner_ex oq = {F_OWNER_PID, child};
    if (fcntl(q[0], F_SETOWN_EX, &oq) != 0 || fcntl(q[0], F_SETFL, O_ASYNC) != 0) die("fcntl Q");

    int f = open("owned.txt", O_RDWR | O_CREAT, 0600);
    if (f < 0) die("open F");
    if (fcntl(f, F_SETOWN, -(int) getpgrp()) != 0) die("fcntl F");

    if (pipe(g) != 0) die("pipe G");
    if (fcntl(g[0], F_SETSIG, SIGUSR1) != 0) die("fcntl G");
    if (pipe(r) != 0) die("pipe R");

    add("P", p[0]);
    add("S", s[0]);
    add("Q", q[0]);
    add("F", f);
    add("G", g[0]);
    add("R", r[0]);
    for (int i = 0; i < nfds; i++) state_of(&fds[i]);
    /* the reverse case must really be empty, or it proves nothing */
    if (fds[5].owner.pid || fds[5].sig || fds[5].async) die("pipe R has an owner at setup");
    if (argc == 3 && strcmp(argv[2], "outside") == 0) {
        if (fcntl(r[0], F_SETOWN, (int) getppid()) != 0) die("fcntl R");
        state_of(&fds[5]);
    }

    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d child=%d worker=%d rfd=%d", (int) parent, (int) child, (int) worker_tid, r[0]);
    unsigned long counter = 0, counter_at_verify = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        check_pid_and_counter(&v, parent, counter, counter_at_verify);
        for (int i = 0; i < nfds; i++) {
            struct fdstate now = fds[i];
            state_of(&now);
            if (now.owner.type != fds[i].owner.type || now.owner.pid != fds[i].owner.pid)
                fail(&v, "%s: owner type %d pid %d, not type %d pid %d", fds[i].name, now.owner.type, now.owner.pid,
                     fds[i].owner.type, fds[i].owner.pid);
            if (now.sig != fds[i].sig) fail(&v, "%s: F_GETSIG %d, not %d", fds[i].name, now.sig, fds[i].sig);
            if (now.async != fds[i].async) fail(&v, "%s: O_ASYNC %s", fds[i].name, now.async ? "appeared" : "lost");
        }
        /* P: the worker thread gets SIGRTMIN+1 with si_fd */
        int before = rt_count;
        if (write(p[1], "p", 1) != 1) fail(&v, "P: write");
        if (!await_change(&rt_count, before)) fail(&v, "P: no SIGRTMIN+1 within 3 s");
        else {
            if (rt_fd != p[0]) fail(&v, "P: si_fd %d, not %d", rt_fd, p[0]);
            if (rt_tid != worker_tid) fail(&v, "P: signal handled by tid %d, not the worker %d", rt_tid, (int) worker_tid);
        }
        drain(p[0]);
        /* S: the process gets SIGIO */
        before = io_count;
        if (write(s[1], "s", 1) != 1) fail(&v, "S: write");
        if (!await_change(&io_count, before)) fail(&v, "S: no SIGIO within 3 s");
        drain(s[0]);
        /* Q: the child gets SIGIO */
        before = sh->child_sigio;
        if (write(q[1], "q", 1) != 1) fail(&v, "Q: write");
        if (!await_change(&sh->child_sigio, before)) fail(&v, "Q: the child got no SIGIO within 3 s");
        drain(q[0]);
        counter_at_verify = counter;
        char detail[200];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu rt=%d io=%d child_io=%d", (int) parent, counter, rt_count,
                 io_count, sh->child_sigio);
        report(&v, detail);
    }
}
