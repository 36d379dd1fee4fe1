/*
 * pty_pair <workdir>: a pseudo-terminal pair held inside the tree. The parent opens /dev/ptmx (packet mode on,
 * window 33x101), forks a child that setsid()s, forks a grandchild (its own process group in the child's session,
 * no controlling terminal), opens the slave without O_NOCTTY (so it becomes the session's controlling terminal),
 * puts it in raw mode with a few marked settings and makes the grandchild's group the foreground group. The
 * grandchild holds the slave too (O_NOCTTY) and passes what it reads on to the child through a pipe.
 * Prints `READY pid=<parent> child=<pid> grandchild=<pid> index=<N> job=<pid or 0>`, then `tick N`.
 * On SIGUSR2 the parent checks its side (TIOCGPTN, packet mode, window size and termios seen from the master),
 * writes `ping N\n` to the master; the grandchild reads it from the slave and passes it on; the child checks its
 * side (its
 * controlling terminal is the slave: tcgetsid, /dev/tty opens; foreground group; termios; window size; ttyname)
 * and answers `pong N ok` or `pong N <failures>` through the slave; the parent reads it from the master (packet
 * mode: a TIOCPKT_DATA byte first) and prints `VERDICT PASS index=N ...` or `VERDICT FAIL ...`.
 * Modes for the refusals: `queued` has the child write a line to the slave that the parent reads only at its next
 * check (data queued in the pty); `job` has the child fork a job after it took its terminal (a process other than
 * the session leader with the pty as its controlling terminal, which it inherited); `notty` has that job fork a
 * process that gives the terminal up (TIOCNOTTY): it has none while its parent has one.
 */
#include "workload.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

#define ROWS 33
#define COLS 101
#define MARK_VINTR 7 /* ^G as the interrupt character */

static int index_of(int master) {
    unsigned n;
    return ioctl(master, TIOCGPTN, &n) == 0 ? (int) n : -1;
}

static void check_termios(struct verdict *v, int fd, const char *side) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) {
        fail(v, "%s tcgetattr: %s", side, strerror(errno));
        return;
    }
    if (t.c_lflag & (ICANON | ECHO)) fail(v, "%s: ICANON/ECHO set again (lflag 0%o)", side, t.c_lflag);
    if (t.c_oflag & OPOST) fail(v, "%s: OPOST set again", side);
    if (t.c_cc[VINTR] != MARK_VINTR) fail(v, "%s: VINTR is %d, not %d", side, t.c_cc[VINTR], MARK_VINTR);
    if (t.c_cc[VMIN] != 1 || t.c_cc[VTIME] != 0) fail(v, "%s: VMIN/VTIME %d/%d", side, t.c_cc[VMIN], t.c_cc[VTIME]);
    if (cfgetospeed(&t) != B9600) fail(v, "%s: output speed %d, not B9600", side, (int) cfgetospeed(&t));
}

static void check_winsize(struct verdict *v, int fd, const char *side) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0) fail(v, "%s TIOCGWINSZ: %s", side, strerror(errno));
    else if (ws.ws_row != ROWS || ws.ws_col != COLS) fail(v, "%s: window %dx%d, not %dx%d", side, ws.ws_row, ws.ws_col, ROWS, COLS);
}

/*
 * The grandchild: its own process group in the child's session, the terminal's foreground group, without a
 * controlling terminal (forked before the child took it), so it may read the slave whatever job control says. It
 * passes each `ping N` it reads on to the child through a pipe. Never returns.
 */
static void grandchild_main(const char *path, int to_child) {
    if (setpgid(0, 0) != 0) die("setpgid");
    int slave = open(path, O_RDWR | O_NOCTTY);
    if (slave < 0) die("grandchild open slave");
    if (slave != 11 && (dup2(slave, 11) != 11 || close(slave) != 0)) die("dup2 slave 11");
    slave = 11;
    char buf[256];
    size_t have = 0;
    for (;;) {
        ssize_t r = read_append(slave, buf, sizeof buf, &have);
        if (r <= 0) {
            say("GRANDCHILD read(slave) ended: %s", r == 0 ? "EOF" : strerror(errno));
            _exit(1);
        }
        char *nl;
        while ((nl = memchr(buf, '\n', have)) != NULL) {
            size_t len = (size_t) (nl + 1 - buf);
            if (write(to_child, buf, len) != (ssize_t) len) say("GRANDCHILD write(pipe): %s", strerror(errno));
            memmove(buf, nl + 1, have - len);
            have -= len;
        }
    }
}

/*
 * The child: session leader with the slave as its controlling terminal, the grandchild's group in the foreground.
 * For each ping the grandchild passes on it checks its side and answers through the slave (a background group may
 * write: TOSTOP is off). Never returns.
 */
static void child_main(int master, int index, int ready_pipe, const char *mode) {
    close(master);
    if (setsid() < 0) die("setsid");
    char path[64];
    snprintf(path, sizeof path, "/dev/pts/%d", index);
    int q[2];
    if (pipe(q) != 0) die("pipe");
    pid_t gc = fork_or_die("fork grandchild");
    if (gc == 0) {
        close(q[0]);
        close(ready_pipe);
        grandchild_main(path, q[1]);
    }
    close(q[1]);
    setpgid(gc, gc); /* either of the two wins the race */
    int slave = open(path, O_RDWR); /* no O_NOCTTY: it becomes our controlling terminal */
    if (slave < 0) die("open slave");
    if (slave != 10 && (dup2(slave, 10) != 10 || close(slave) != 0)) die("dup2 slave");
    slave = 10;
    struct termios t;
    if (tcgetattr(slave, &t) != 0) die("tcgetattr");
    cfmakeraw(&t);
    t.c_cc[VINTR] = MARK_VINTR;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    cfsetospeed(&t, B9600);
    cfsetispeed(&t, B9600);
    if (tcsetattr(slave, TCSANOW, &t) != 0) die("tcsetattr");
    signal(SIGTTOU, SIG_IGN);
    if (tcsetpgrp(slave, gc) != 0) die("tcsetpgrp");
    signal(SIGTTOU, SIG_DFL);
    pid_t job = 0;
    if (strcmp(mode, "job") == 0 || strcmp(mode, "notty") == 0) {
        /* a job of the session forked after the leader took its terminal: it inherits it as its ctty */
        int sync[2];
        if (pipe(sync) != 0) die("pipe sync");
        job = fork_or_die("fork job");
        if (job == 0) {
            close(ready_pipe);
            close(sync[0]);
            if (strcmp(mode, "notty") == 0) {
                /* notty: the job forks a process that gives the terminal up (TIOCNOTTY) */
                pid_t sub = fork_or_die("fork subjob");
                if (sub == 0) {
                    if (ioctl(slave, TIOCNOTTY) != 0) die("TIOCNOTTY");
                    close(sync[1]);
                    for (;;) pause();
                }
            }
            close(sync[1]); /* the leader reads EOF once the job (and its subjob) are set up */
            for (;;) pause();
        }
        close(sync[1]);
        char c;
        while (read(sync[0], &c, 1) > 0) {
        }
        close(sync[0]);
    }
    if (strcmp(mode, "queued") == 0) {
        /* output the parent does not read before its next check: it waits in the pty */
        if (write(slave, "unread\n", 7) != 7) die("write unread");
    }
    char line[64];
    int n = snprintf(line, sizeof line, "%d %d\n", (int) gc, (int) job);
    if (write(ready_pipe, line, n) != n) die("write ready pipe");
    close(ready_pipe);

    char buf[256];
    size_t have = 0;
    for (;;) {
        ssize_t r = read_append(q[0], buf, sizeof buf, &have);
        if (r <= 0) {
            say("CHILD read(pipe) ended: %s", r == 0 ? "EOF" : strerror(errno));
            _exit(1);
        }
        char *nl = memchr(buf, '\n', have);
        if (!nl) continue;
        *nl = 0;
        unsigned long round = strtoul(buf + 5, NULL, 10);
        struct verdict v = {0};
        if (tcgetsid(slave) != getsid(0)) fail(&v, "the slave is not our session's controlling terminal (tcgetsid %d, sid %d)", (int) tcgetsid(slave), (int) getsid(0));
        int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (tty < 0) fail(&v, "no controlling terminal: open(/dev/tty): %s", strerror(errno));
        else close(tty);
        if (tcgetpgrp(slave) != gc) fail(&v, "foreground group %d, not %d", (int) tcgetpgrp(slave), (int) gc);
        check_termios(&v, slave, "slave");
        check_winsize(&v, slave, "slave");
        const char *name = ttyname(slave);
        if (!name || strcmp(name, path) != 0) fail(&v, "ttyname %s, not %s", name ? name : "?", path);
        if (strncmp(buf, "ping ", 5) != 0) fail(&v, "got '%s', not a ping", buf);
        char reply[3200];
        int m = snprintf(reply, sizeof reply, "pong %lu %s\n", round, v.len ? v.failures : "ok");
        if (m > (int) sizeof reply - 1) m = (int) sizeof reply - 1;
        if (write(slave, reply, m) != m) say("CHILD write(slave): %s", strerror(errno));
        size_t rest = have - (size_t) (nl + 1 - buf);
        memmove(buf, nl + 1, rest);
        have = rest;
    }
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 2, "[queued|job]");
    const char *mode = argc > 2 ? argv[2] : "";
    install(SIGUSR2, on_verify_signal);
    int master = open_pty_master_at(9);
    int index = index_of(master);
    struct winsize ws = {.ws_row = ROWS, .ws_col = COLS, .ws_xpixel = 0, .ws_ypixel = 0};
    if (ioctl(master, TIOCSWINSZ, &ws) != 0) die("TIOCSWINSZ");
    int one = 1;
    if (ioctl(master, TIOCPKT, &one) != 0) die("TIOCPKT");
    int p[2];
    if (pipe(p) != 0) die("pipe");
    pid_t child = fork_or_die("fork");
    if (child == 0) {
        close(p[0]);
        child_main(master, index, p[1], mode);
    }
    close(p[1]);
    char line[64] = {0};
    ssize_t got = read(p[0], line, sizeof line - 1);
    if (got <= 0) die("read ready pipe");
    close(p[0]);
    int gc = 0, job = 0;
    if (sscanf(line, "%d %d", &gc, &job) != 2) die("ready pipe");
    say("READY pid=%d child=%d grandchild=%d index=%d job=%d", (int) real_getpid(), (int) child, gc, index, job);

    unsigned long counter = 0, round = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (index_of(master) != index) fail(&v, "TIOCGPTN %d, not %d", index_of(master), index);
        int pkt = 0;
        if (ioctl(master, TIOCGPKT, &pkt) != 0 || !pkt) fail(&v, "packet mode off");
        check_winsize(&v, master, "master");
        check_termios(&v, master, "master");
        round++;
        char ping[64];
        int n = snprintf(ping, sizeof ping, "ping %lu\n", round);
        if (write(master, ping, n) != n) fail(&v, "write(master): %s", strerror(errno));
        char reply[4096];
        size_t have = 0;
        uint64_t deadline = monotonic_ns() + 5000000000ull;
        char *pong = NULL;
        while (!(pong && strchr(pong, '\n')) && monotonic_ns() < deadline) {
            struct pollfd pf = {.fd = master, .events = POLLIN};
            if (poll(&pf, 1, 200) <= 0) continue;
            char chunk[4096];
            ssize_t r = read(master, chunk, sizeof chunk);
            if (r <= 0) {
                if (r < 0 && errno == EINTR) continue;
                fail(&v, "read(master): %s", r == 0 ? "EOF" : strerror(errno));
                break;
            }
            /* packet mode: each read starts with a status byte; TIOCPKT_DATA (0) carries data */
            if (chunk[0] != 0) continue;
            size_t len = (size_t) r - 1;
            if (len > sizeof reply - 1 - have) len = sizeof reply - 1 - have;
            memcpy(reply + have, chunk + 1, len);
            have += len;
            reply[have] = 0;
            pong = strstr(reply, "pong ");
        }
        reply[have] = 0;
        if (pong) memmove(reply, pong, strlen(pong) + 1); /* what came before (queued mode's line) is dropped */
        char expect[64];
        snprintf(expect, sizeof expect, "pong %lu ok\n", round);
        if (strcmp(reply, expect) != 0) fail(&v, "child answered '%s'", reply);
        char detail[128];
        snprintf(detail, sizeof detail, "index=%d round=%lu child=%d", index, round, (int) child);
        report(&v, detail);
    }
}
