/*
 * many_fds <workdir> [N]: one process holding N (default 400) fds of mixed kinds, enough that a dump reads them on two
 * threads (issue 13's fd read-ahead starts at 64 fds), with holes in the table and some fds moved above 2000:
 *
 *   i % 6 == 0   a regular file ("data", 4096 bytes) read-only at offset i
 *   i % 6 == 1   the same file O_WRONLY|O_APPEND, close-on-exec
 *   i % 6 == 2   a pipe (two fds) with i % 50 + 1 bytes in flight; O_NONBLOCK on the read end when i % 12 == 2
 *   i % 6 == 3   a socketpair (two fds) with i % 40 + 1 bytes queued towards the first end
 *   i % 6 == 4   a dup of the previous fd (F_DUPFD_CLOEXEC when i % 12 == 4): the same open file description
 *   i % 6 == 5   /dev/null O_RDWR|O_NONBLOCK
 *   every 7th fd is then moved to 2000 + its index, and the fd it held closed (a hole)
 *
 * On SIGUSR2 it checks, for every fd: its kind (S_IFMT), the flags of its open file description (F_GETFL) and of the fd
 * (F_GETFD), a regular file's device, inode and offset, what is queued in a pipe or socket (FIONREAD), that both ends
 * of a pipe are one pipe, that each dup still shares its original's open file description and that no other
 * neighbouring fds do (kcmp KCMP_FILE), and that the process holds exactly these fds and stdio (no more, no fewer).
 * Prints `READY pid=<pid> fds=<count>`, `tick N`, `VERDICT PASS|FAIL ... verifies=N`.
 */
#include "workload.h"

#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/resource.h>

#define KCMP_FILE 0
#define MAX_SLOTS 4096

struct slot {
    int fd;
    mode_t kind;
    int fl;        /* F_GETFL */
    int fdflags;   /* F_GETFD */
    dev_t dev;     /* regular files */
    ino_t ino;
    off_t pos;
    int queued;    /* FIONREAD of a pipe's read end or a socket */
    int same_as;   /* the slot whose open file description this one shares, or -1 */
    int pipe_of;   /* for a pipe's write end: its read end's slot, or -1 */
};

static struct slot slots[MAX_SLOTS];
static int nslots;

static int add(int fd, int same_as, int pipe_of) {
    if (fd < 0) die("open fd");
    if (nslots == MAX_SLOTS) {
        errno = E2BIG;
        die("too many fds");
    }
    slots[nslots] = (struct slot) {.fd = fd, .same_as = same_as, .pipe_of = pipe_of};
    return nslots++;
}

static void fill(const char *buf, int fd, int n) {
    if (write(fd, buf, (size_t) n) != n) die("write");
}

/* What slot s holds now, recorded once at setup and compared at each check. */
static void observe(struct slot *s, struct slot *now) {
    struct stat st;
    *now = *s;
    now->kind = fstat(s->fd, &st) == 0 ? st.st_mode & S_IFMT : 0;
    now->fl = fcntl(s->fd, F_GETFL);
    now->fdflags = fcntl(s->fd, F_GETFD);
    now->dev = now->kind == S_IFREG ? st.st_dev : 0;
    now->ino = now->kind == S_IFREG || now->kind == S_IFIFO ? st.st_ino : 0;
    now->pos = now->kind == S_IFREG ? lseek(s->fd, 0, SEEK_CUR) : 0;
    int q = -1;
    if ((now->kind == S_IFIFO && (now->fl & O_ACCMODE) == O_RDONLY) || now->kind == S_IFSOCK) {
        if (ioctl(s->fd, FIONREAD, &q) != 0) q = -2;
    }
    now->queued = q;
}

static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') n++;
    }
    closedir(d);
    return n - 1; /* the directory's own fd */
}

static void check(struct verdict *v) {
    pid_t self = real_getpid();
    for (int i = 0; i < nslots; i++) {
        struct slot now;
        observe(&slots[i], &now);
        struct slot *was = &slots[i];
        if (now.kind != was->kind) fail(v, "fd %d: kind %o, was %o", was->fd, now.kind, was->kind);
        if (now.fl != was->fl) fail(v, "fd %d: F_GETFL %#x, was %#x", was->fd, now.fl, was->fl);
        if (now.fdflags != was->fdflags) fail(v, "fd %d: F_GETFD %d, was %d", was->fd, now.fdflags, was->fdflags);
        if (now.kind == S_IFREG && (now.dev != was->dev || now.ino != was->ino))
            fail(v, "fd %d: another file", was->fd);
        if (now.pos != was->pos) fail(v, "fd %d: offset %ld, was %ld", was->fd, (long) now.pos, (long) was->pos);
        if (now.queued != was->queued) fail(v, "fd %d: %d bytes queued, was %d", was->fd, now.queued, was->queued);
        if (was->pipe_of >= 0) {
            struct slot r;
            observe(&slots[was->pipe_of], &r);
            if (r.ino != now.ino) fail(v, "fd %d is not the write end of fd %d's pipe", was->fd, r.fd);
        }
        if (was->same_as >= 0) {
            int other = slots[was->same_as].fd;
            if (syscall(SYS_kcmp, self, self, KCMP_FILE, was->fd, other) != 0)
                fail(v, "fd %d no longer shares fd %d's open file description", was->fd, other);
        } else if (i > 0 && syscall(SYS_kcmp, self, self, KCMP_FILE, was->fd, slots[i - 1].fd) == 0) {
            fail(v, "fd %d now shares fd %d's open file description", was->fd, slots[i - 1].fd);
        }
    }
    int held = count_fds();
    if (held != nslots + 3) fail(v, "the process holds %d fds, not %d", held, nslots + 3);
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 2, "[N]");
    int n = argc == 3 ? atoi(argv[2]) : 400;
    if (n < 1 || n > MAX_SLOTS / 2) {
        errno = EINVAL;
        die("N");
    }
    struct rlimit rl = {4096, 4096};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) die("setrlimit");
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    int data = open("data", O_CREAT | O_TRUNC | O_RDWR, 0600);
    if (data < 0) die("data");
    fill(buf, data, sizeof buf);
    close(data);

    for (int i = 0; i < n; i++) {
        switch (i % 6) {
        case 0: {
            int fd = open("data", O_RDONLY);
            if (fd < 0 || lseek(fd, i, SEEK_SET) != i) die("data at offset");
            add(fd, -1, -1);
            break;
        }
        case 1:
            add(open("data", O_WRONLY | O_APPEND | O_CLOEXEC), -1, -1);
            break;
        case 2: {
            int p[2];
            if (pipe(p) != 0) die("pipe");
            fill(buf, p[1], i % 50 + 1);
            if (i % 12 == 2 && fcntl(p[0], F_SETFL, O_NONBLOCK) != 0) die("O_NONBLOCK");
            int r = add(p[0], -1, -1);
            add(p[1], -1, r);
            break;
        }
        case 3: {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) die("socketpair");
            fill(buf, sv[1], i % 40 + 1);
            add(sv[0], -1, -1);
            add(sv[1], -1, -1);
            break;
        }
        case 4: {
            int prev = nslots - 1;
            add(fcntl(slots[prev].fd, i % 12 == 4 ? F_DUPFD_CLOEXEC : F_DUPFD, 0), prev, -1);
            break;
        }
        default:
            add(open("/dev/null", O_RDWR | O_NONBLOCK), -1, -1);
        }
    }
    for (int i = 0; i < nslots; i += 7) {
        int high = 2000 + i;
        int flags = fcntl(slots[i].fd, F_GETFD);
        if (dup3(slots[i].fd, high, flags & FD_CLOEXEC ? O_CLOEXEC : 0) != high) die("dup3");
        close(slots[i].fd);
        slots[i].fd = high;
    }
    for (int i = 0; i < nslots; i++) observe(&slots[i], &slots[i]);
    struct verdict setup = {0};
    check(&setup);
    exit_if_setup_failed(&setup);

    install(SIGUSR2, on_verify_signal);
    pid_t pid = real_getpid();
    say("READY pid=%d fds=%d", (int) pid, nslots);
    unsigned long counter = 0, counter_at_verify = 0, verifies = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        check_pid_and_counter(&v, pid, counter, counter_at_verify);
        check(&v);
        counter_at_verify = counter;
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d fds=%d verifies=%lu", (int) pid, nslots, ++verifies);
        report(&v, detail);
    }
}
