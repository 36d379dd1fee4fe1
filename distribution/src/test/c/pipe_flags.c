/*
 * pipe_flags <workdir>: pipe ends whose open file descriptions (OFDs) carry different status flags, in a parent and
 * its child; on SIGUSR2 the parent checks that every fd has exactly the flags it had at setup (F_GETFL; the child's
 * through /proc/CHILD/fdinfo), that fds shared one OFD exactly where they did (kcmp KCMP_FILE), and that the pipes
 * still behave (data flows, a closed other end is still closed).
 *
 *   pipe A   read end O_NONBLOCK (set by fcntl), shared by a dup and by the child; a second read OFD (reopened
 *            through /proc/self/fd) without O_NONBLOCK; the write end blocking and a second write OFD with
 *            O_NONBLOCK; the child reopens the read end once more with O_NONBLOCK at fd 50
 *   pipe B   pipe2(O_NONBLOCK|O_DIRECT), O_NONBLOCK cleared again on the read end (reverse: it must not come back)
 *   pipe C   the write end closed after writing "hello": two read OFDs (O_NONBLOCK / blocking) see the 5 bytes and a
 *            hang-up (POLLHUP: no writer appeared)
 *   pipe D   the read end closed: two write OFDs (blocking / O_NONBLOCK) get EPIPE
 *   pipe E   only an O_RDWR OFD (reopened through /proc/self/fd, both original ends closed) holds it
 *   FIFO     opened twice with the same flags: two OFDs, not one
 * Prints `READY pid=<pid> child=<pid>`, `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define KCMP_FILE 0
#define CHILD_FD 50
#define MAX_FDS 32

struct slot {
    const char *name;
    int child; /* 1: the fd is the child's */
    int fd;
    long flags;
};

static struct slot slots[MAX_FDS];
static int nslots;
static int same[MAX_FDS][MAX_FDS];
static pid_t parent, child;

static void add(const char *name, int in_child, int fd) {
    slots[nslots].name = name;
    slots[nslots].child = in_child;
    slots[nslots].fd = fd;
    nslots++;
}

static int reopen(int fd, int flags) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int r = open(path, flags);
    if (r < 0) die(path);
    return r;
}

/* F_GETFL of one slot: the parent's directly, the child's from the `flags:` line of its fdinfo (without O_CLOEXEC) */
static long flags_of(const struct slot *s) {
    if (!s->child) return fcntl(s->fd, F_GETFL);
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int) child, s->fd);
    if (read_small_file(path, buf, sizeof buf) < 0) return -1;
    char *f = strstr(buf, "flags:");
    if (!f) return -1;
    return strtol(f + 6, NULL, 8) & ~O_CLOEXEC;
}

static int same_ofd(const struct slot *a, const struct slot *b) {
    long r = syscall(SYS_kcmp, a->child ? child : parent, b->child ? child : parent, KCMP_FILE, a->fd, b->fd);
    return r == 0;
}

static void record(void) {
    for (int i = 0; i < nslots; i++) {
        slots[i].flags = flags_of(&slots[i]);
        for (int j = 0; j < nslots; j++) same[i][j] = same_ofd(&slots[i], &slots[j]);
    }
}

static int a_r, a_w, a_dup, a_r2, a_w2, b_r, b_w, c_r, c_r2, d_w, d_w2, e_rw, f1, f2;

static void check(struct verdict *v) {
    for (int i = 0; i < nslots; i++) {
        long f = flags_of(&slots[i]);
        if (f != slots[i].flags) fail(v, "%s: flags 0%lo, not 0%lo", slots[i].name, f, slots[i].flags);
        for (int j = i + 1; j < nslots; j++) {
            int s = same_ofd(&slots[i], &slots[j]);
            if (s != same[i][j])
                fail(v, "%s and %s %s one open file description", slots[i].name, slots[j].name,
                     s ? "now share" : "no longer share");
        }
    }
    /* pipe A: what one write OFD writes, another read OFD reads */
    char buf[16];
    if (write(a_w2, "xyz", 3) != 3) fail(v, "A: write through the second write OFD: %s", strerror(errno));
    else if (read(a_r2, buf, sizeof buf) != 3 || memcmp(buf, "xyz", 3) != 0) fail(v, "A: read through the second read OFD");
    if (write(a_w, "uv", 2) != 2) fail(v, "A: write: %s", strerror(errno));
    else if (read(a_dup, buf, sizeof buf) != 2) fail(v, "A: read through the dup");
    if (read(a_r, buf, sizeof buf) != -1 || errno != EAGAIN) fail(v, "A: empty O_NONBLOCK read end did not say EAGAIN");
    /* pipe B: still packets (O_DIRECT) */
    if (write(b_w, "p1", 2) != 2 || write(b_w, "p22", 3) != 3) fail(v, "B: write: %s", strerror(errno));
    else if (read(b_r, buf, sizeof buf) != 2 || read(b_r, buf, sizeof buf) != 3) fail(v, "B: not packets any more");
    /* pipe C: 5 bytes, then nobody will ever write */
    int avail = -1;
    if (ioctl(c_r2, FIONREAD, &avail) != 0 || avail != 5) fail(v, "C: %d bytes buffered, not 5", avail);
    struct pollfd pf[2] = {{c_r, POLLIN, 0}, {c_r2, POLLIN, 0}};
    if (poll(pf, 2, 0) != 2 || !(pf[0].revents & POLLHUP) || !(pf[1].revents & POLLHUP))
        fail(v, "C: no hang-up on the read ends (revents 0x%x 0x%x): a writer appeared", pf[0].revents, pf[1].revents);
    /* pipe D: nobody reads */
    if (write(d_w2, "z", 1) != -1 || errno != EPIPE) fail(v, "D: write did not fail with EPIPE");
    if (write(d_w, "z", 1) != -1 || errno != EPIPE) fail(v, "D: write through the blocking OFD did not fail with EPIPE");
    /* pipe E: one OFD both reads and writes */
    if (write(e_rw, "ee", 2) != 2 || read(e_rw, buf, sizeof buf) != 2) fail(v, "E: O_RDWR round trip");
    /* FIFO: two OFDs keep working */
    if (write(f1, "f", 1) != 1 || read(f2, buf, 1) != 1) fail(v, "FIFO: round trip");
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    signal(SIGPIPE, SIG_IGN);
    parent = real_getpid();
    int p[2];
    if (pipe(p) != 0) die("pipe A");
    a_r = p[0];
    a_w = p[1];
    if (fcntl(a_r, F_SETFL, O_NONBLOCK) != 0) die("fcntl A");
    a_dup = dup(a_r);
    a_r2 = reopen(a_r, O_RDONLY);
    a_w2 = reopen(a_w, O_WRONLY | O_NONBLOCK);

    if (pipe2(p, O_NONBLOCK | O_DIRECT) != 0) die("pipe2 B");
    b_r = p[0];
    b_w = p[1];
    if (fcntl(b_r, F_SETFL, 0) != 0) die("fcntl B");

    if (pipe(p) != 0) die("pipe C");
    c_r = p[0];
    if (write(p[1], "hello", 5) != 5) die("write C");
    if (fcntl(c_r, F_SETFL, O_NONBLOCK) != 0) die("fcntl C");
    c_r2 = reopen(c_r, O_RDONLY);
    close(p[1]);

    if (pipe(p) != 0) die("pipe D");
    d_w = p[1];
    d_w2 = reopen(d_w, O_WRONLY | O_NONBLOCK);
    close(p[0]);

    if (pipe(p) != 0) die("pipe E");
    e_rw = reopen(p[0], O_RDWR | O_NONBLOCK);
    close(p[0]);
    close(p[1]);

    if (mkfifo("f.fifo", 0600) != 0 && errno != EEXIST) die("mkfifo");
    f1 = open("f.fifo", O_RDWR | O_NONBLOCK);
    f2 = open("f.fifo", O_RDWR | O_NONBLOCK);
    if (f1 < 0 || f2 < 0) die("open fifo");

    child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(0);
        int r3 = reopen(a_r, O_RDONLY | O_NONBLOCK);
        if (dup2(r3, CHILD_FD) != CHILD_FD) _exit(1);
        close(r3);
        for (;;) pause();
    }
    /* wait until the child has its fd 50 */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int) child, CHILD_FD);
    struct stat st;
    for (int i = 0; i < 1000 && stat(path, &st) != 0; i++) usleep(1000);

    add("A.r", 0, a_r);
    add("A.w", 0, a_w);
    add("A.dup", 0, a_dup);
    add("A.r2", 0, a_r2);
    add("A.w2", 0, a_w2);
    add("B.r", 0, b_r);
    add("B.w", 0, b_w);
    add("C.r", 0, c_r);
    add("C.r2", 0, c_r2);
    add("D.w", 0, d_w);
    add("D.w2", 0, d_w2);
    add("E.rw", 0, e_rw);
    add("F.1", 0, f1);
    add("F.2", 0, f2);
    add("child A.r", 1, a_r);
    add("child A.r2", 1, a_r2);
    add("child A.r3", 1, CHILD_FD);
    add("child D.w2", 1, d_w2);
    record();

    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d child=%d", (int) parent, (int) child);
    unsigned long counter = 0, counter_at_verify = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        check_pid_and_counter(&v, parent, counter, counter_at_verify);
        check(&v);
        counter_at_verify = counter;
        char detail[160];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu fds=%d A.r=0%lo A.r2=0%lo", (int) parent, counter, nslots,
                 slots[0].flags, slots[3].flags);
        report(&v, detail);
    }
}
