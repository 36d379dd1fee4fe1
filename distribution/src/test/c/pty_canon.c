/*
 * pty_canon <workdir>: a pseudo-terminal pair held inside the tree with data queued both ways. The parent holds the
 * master (fd 9, no packet mode) and plays the terminal; the child — a session leader with the slave (fd 10) as its
 * controlling terminal in the default cooked mode (ICANON, ECHO, ICRNL, ONLCR) — reads lines and answers
 * `got[LINE]` for each (`got<eof>` for a read of 0 bytes). At start the child writes `hello\n`, which the parent does
 * not read (the master's input queue holds `hello\r\n`), and waits to be let go before its first read; the parent
 * types `l1\n`, `l2^D`, `^D` and `partial` without a newline: two complete lines (one ended by VEOF), an empty line
 * ended by VEOF and a partial canonical line in the slave's input queue, their echo in the master's. Prints
 * `READY pid=<parent> child=<pid> index=<N>`, then `tick N`.
 * On SIGUSR2 the parent types the rest of a line and reads the master until the answer: the first round types
 * ` line\r`, waits for its echo, lets the child go, and everything the master gave since the start must be exactly
 * `hello\r\nl1\r\nl2partial line\r\ngot[l1]\r\ngot[l2]\r\ngot<eof>\r\ngot[partial line]\r\n` (nothing lost,
 * nothing echoed twice, the lines as they were); later rounds type `ping N\r` and expect
 * `ping N\r\ngot[ping N]\r\n`. `VERDICT PASS index=N round=N` or `VERDICT FAIL ...`.
 */
#include "workload.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

static void child_main(int index, int ready_pipe, int go) {
    if (setsid() < 0) die("setsid");
    char path[64];
    snprintf(path, sizeof path, "/dev/pts/%d", index);
    int slave = open(path, O_RDWR); /* no O_NOCTTY: our controlling terminal */
    if (slave < 0) die("open slave");
    if (slave != 10 && (dup2(slave, 10) != 10 || close(slave) != 0)) die("dup2 slave");
    slave = 10;
    if (write(slave, "hello\n", 6) != 6) die("write hello");
    if (write(ready_pipe, "r", 1) != 1) die("write ready pipe");
    close(ready_pipe);
    char c;
    if (read(go, &c, 1) != 1) die("read go pipe");
    close(go);
    char line[512];
    for (;;) {
        ssize_t r = read(slave, line, sizeof line - 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            say("CHILD read(slave) ended: %s", strerror(errno));
            _exit(1);
        }
        if (r > 0 && line[r - 1] == '\n') r--;
        line[r] = 0;
        char reply[600];
        int m = r == 0 && line[0] == 0 ? snprintf(reply, sizeof reply, "got<eof>\n")
                                       : snprintf(reply, sizeof reply, "got[%s]\n", line);
        if (write(slave, reply, m) != m) say("CHILD write(slave): %s", strerror(errno));
    }
}

/* Reads the master into `t` until it holds `want` bytes (5 s at most). */
static void read_until(struct verdict *v, int master, char *t, size_t size, size_t *have, size_t want) {
    uint64_t deadline = monotonic_ns() + 5000000000ull;
    while (*have < want && monotonic_ns() < deadline) {
        struct pollfd pf = {.fd = master, .events = POLLIN};
        if (poll(&pf, 1, 200) <= 0) continue;
        ssize_t r = read(master, t + *have, size - 1 - *have);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            fail(v, "read(master): %s", r == 0 ? "EOF" : strerror(errno));
            return;
        }
        *have += (size_t) r;
    }
}

/* Types `s` into the master. */
static void type(int master, const char *s) {
    size_t n = strlen(s);
    if (write(master, s, n) != (ssize_t) n) die("write(master)");
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    install(SIGUSR2, on_verify_signal);
    int master = open_pty_master_at(9);
    unsigned idx;
    if (ioctl(master, TIOCGPTN, &idx) != 0) die("TIOCGPTN");
    int p[2], go[2];
    if (pipe(p) != 0 || pipe(go) != 0) die("pipe");
    pid_t child = fork_or_die("fork");
    if (child == 0) {
        close(p[0]);
        close(go[1]);
        close(master);
        child_main((int) idx, p[1], go[0]);
    }
    close(p[1]);
    close(go[0]);
    char c;
    if (read(p[0], &c, 1) != 1) die("read ready pipe");
    close(p[0]);
    type(master, "l1\nl2\004\004partial");
    sleep_ms(100);
    say("READY pid=%d child=%d index=%u", (int) real_getpid(), (int) child, idx);

    static char transcript[65536];
    size_t have = 0, checked = 0;
    unsigned long counter = 0, round = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        round++;
        char typed[64], expect[256];
        const char *echoed = "hello\r\nl1\r\nl2partial line\r\n";
        if (round == 1) {
            snprintf(typed, sizeof typed, " line\r");
            snprintf(expect, sizeof expect, "%sgot[l1]\r\ngot[l2]\r\ngot<eof>\r\ngot[partial line]\r\n", echoed);
        } else {
            snprintf(typed, sizeof typed, "ping %lu\r", round);
            snprintf(expect, sizeof expect, "ping %lu\r\ngot[ping %lu]\r\n", round, round);
        }
        type(master, typed);
        if (round == 1) {
            /* the echo first, then the child's answers: it reads only once let go */
            read_until(&v, master, transcript, sizeof transcript, &have, checked + strlen(echoed));
            if (write(go[1], "g", 1) != 1) fail(&v, "write(go pipe): %s", strerror(errno));
        }
        read_until(&v, master, transcript, sizeof transcript, &have, checked + strlen(expect));
        /* anything more (a second echo) would come right after: give it a moment */
        struct pollfd pf = {.fd = master, .events = POLLIN};
        if (poll(&pf, 1, 300) > 0) {
            ssize_t r = read(master, transcript + have, sizeof transcript - 1 - have);
            if (r > 0) have += (size_t) r;
        }
        transcript[have] = 0;
        if (strcmp(transcript + checked, expect) != 0) {
            char shown[600];
            size_t j = 0;
            for (size_t i = checked; i < have && j < sizeof shown - 5; i++) {
                unsigned char ch = (unsigned char) transcript[i];
                if (ch == '\r') { shown[j++] = '\\'; shown[j++] = 'r'; }
                else if (ch == '\n') { shown[j++] = '\\'; shown[j++] = 'n'; }
                else if (ch < 32 || ch > 126) shown[j++] = '?';
                else shown[j++] = (char) ch;
            }
            shown[j] = 0;
            fail(&v, "round %lu: the terminal showed '%s'", round, shown);
        }
        checked = have;
        char detail[128];
        snprintf(detail, sizeof detail, "index=%u round=%lu", idx, round);
        report(&v, detail);
    }
}
