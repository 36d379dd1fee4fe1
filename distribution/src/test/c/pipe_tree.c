/*
 * pipe_tree <workdir> pair|chain N|three|fifo: a process tree joined by full pipes (fast writers, slow readers).
 *
 * Writers send 16-byte records {writer id, sequence number, check} as fast as the pipe takes them (one write per
 * record, so records of several writers never interleave); copy stages forward bytes slowly; the verifier (the
 * last process) reads 4 KiB every 20 ms and checks that each writer's sequence numbers arrive complete, in order,
 * without duplicates. So at any moment every pipe of the tree is full.
 *   pair     the root writes, its child verifies (one pipe);
 *   chain N  N processes: the root writes, N-2 children copy, the last verifies (N-1 pipes, N >= 2);
 *   three    one pipe held by three processes: the root and its first child write, the second child verifies;
 *   fifo     like pair, through the FIFO <workdir>/p.fifo: the child opens it for reading, the root for writing.
 * Prints `READY pid=<root> verifier=<pid>`; the verifier prints `tick N`. SIGUSR2 to the root is forwarded to the
 * verifier, which prints `VERDICT PASS|FAIL` (PASS needs new records since the previous verdict).
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

struct rec {
    uint32_t writer;
    uint32_t seq;
    uint64_t check;
};

static uint64_t check_of(uint32_t writer, uint32_t seq) {
    return ((uint64_t) writer << 40) ^ ((uint64_t) seq * 0x9E3779B97F4A7C15ull);
}

static volatile pid_t verifier_pid;

static void forward_verify(int sig) {
    (void) sig;
    if (verifier_pid > 0) kill(verifier_pid, SIGUSR2);
}

static void writer_loop(int fd, uint32_t id) {
    for (uint32_t seq = 0;; seq++) {
        struct rec r = {id, seq, check_of(id, seq)};
        ssize_t w;
        do w = write(fd, &r, sizeof r); while (w < 0 && errno == EINTR);
        if (w != (ssize_t) sizeof r) _exit(3);
    }
}

static void copy_loop(int in, int out) {
    char buf[4096];
    for (;;) {
        ssize_t r = read(in, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) _exit(4);
        for (ssize_t off = 0; off < r;) {
            ssize_t w = write(out, buf + off, (size_t) (r - off));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) _exit(5);
            off += w;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void verifier_loop(int in, int writers) {
    install(SIGUSR2, on_verify_signal);
    uint32_t next[2] = {0, 0};
    unsigned long records = 0, at_verdict = 0, errors = 0, counter = 0;
    unsigned char pending[sizeof(struct rec)];
    size_t have = 0;
    char buf[4096];
    for (;;) {
        ssize_t r = read(in, buf, sizeof buf);
        if (r < 0 && errno == EINTR) r = 0;
        if (r < 0) { say("VERDICT FAIL read: %s", strerror(errno)); _exit(6); }
        for (ssize_t i = 0; i < r; i++) {
            pending[have++] = (unsigned char) buf[i];
            if (have < sizeof pending) continue;
            have = 0;
            struct rec x;
            memcpy(&x, pending, sizeof x);
            if ((int) x.writer >= writers || x.check != check_of(x.writer, x.seq) || x.seq != next[x.writer]) {
                if (errors++ < 5)
                    say("BAD record writer=%u seq=%u expected=%u", x.writer, x.seq,
                        (int) x.writer < writers ? next[x.writer] : 0);
                if ((int) x.writer < writers) next[x.writer] = x.seq + 1;
            } else {
                next[x.writer]++;
            }
            records++;
        }
        say("tick %lu", ++counter);
        sleep_ms(20);
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;
        struct verdict v = {0};
        if (errors) fail(&v, "%lu records lost, duplicated or corrupt", errors);
        if (records <= at_verdict) fail(&v, "no new records since the last verdict");
        at_verdict = records;
        char detail[128];
        snprintf(detail, sizeof detail, "records=%lu next0=%u next1=%u", records, next[0], next[1]);
        report(&v, detail);
    }
}

/* fork(): 0 in the child, which is killed when its parent dies; the child's pid in the parent. */
static pid_t fork_stage(void) {
    pid_t c = fork_or_die("fork");
    if (c == 0) prctl(PR_SET_PDEATHSIG, SIGKILL);
    return c;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <workdir> pair|chain N|three|fifo\n", argv[0]);
        return 2;
    }
    if (chdir(argv[1]) != 0) die("chdir(workdir)");
    int n = 2, writers = 1, three = 0;
    if (strcmp(argv[2], "chain") == 0) {
        n = argc > 3 ? atoi(argv[3]) : 4;
        if (n < 2) n = 2;
    } else if (strcmp(argv[2], "three") == 0) {
        three = 1;
        writers = 2;
    }
    pid_t root = real_getpid();
    install(SIGUSR2, forward_verify);
    if (strcmp(argv[2], "fifo") == 0) {
        if (mkfifo("p.fifo", 0600) != 0) die("mkfifo");
        pid_t v = fork_stage();
        if (v == 0) {
            int in = open("p.fifo", O_RDONLY);
            if (in < 0) die("open(p.fifo, O_RDONLY)");
            verifier_loop(in, 1);
        }
        verifier_pid = v;
        int out = open("p.fifo", O_WRONLY);
        if (out < 0) die("open(p.fifo, O_WRONLY)");
        say("READY pid=%d verifier=%d", (int) root, (int) v);
        writer_loop(out, 0);
    }
    if (three) {
        int p[2];
        if (pipe(p) != 0) die("pipe");
        pid_t w1 = fork_stage();
        if (w1 == 0) {
            close(p[0]);
            writer_loop(p[1], 1);
        }
        pid_t v = fork_stage();
        if (v == 0) {
            close(p[1]);
            verifier_loop(p[0], writers);
        }
        verifier_pid = v;
        close(p[0]);
        say("READY pid=%d verifier=%d", (int) root, (int) v);
        writer_loop(p[1], 0);
    }
    /* a chain: stage 0 (root) writes into pipe 0, stage i reads pipe i-1 and writes pipe i, the last verifies */
    int in = -1;
    pid_t last = 0;
    for (int stage = 1; stage < n; stage++) {
        int p[2];
        if (pipe(p) != 0) die("pipe");
        pid_t c = fork_stage();
        if (c == 0) {
            close(p[1]);
            if (in >= 0) close(in);
            in = p[0];
            continue; /* the child goes on building the rest of the chain from its own stage */
        }
        /* the parent of this pipe: it writes into p[1] */
        close(p[0]);
        if (stage == 1) {
            /* the root: learn the verifier's pid (the last stage writes it into the file verifier.pid) */
            for (int i = 0; i < 500 && last == 0; i++) {
                FILE *f = fopen("verifier.pid", "r");
                if (f) {
                    int x = 0;
                    if (fscanf(f, "%d", &x) == 1) last = x;
                    fclose(f);
                }
                if (!last) sleep_ms(10);
            }
            verifier_pid = last;
            say("READY pid=%d verifier=%d", (int) root, (int) last);
            writer_loop(p[1], 0);
        }
        copy_loop(in, p[1]);
    }
    /* the last stage */
    FILE *f = fopen("verifier.pid.tmp", "w");
    if (!f) die("verifier.pid");
    fprintf(f, "%d\n", (int) real_getpid());
    fclose(f);
    rename("verifier.pid.tmp", "verifier.pid");
    verifier_loop(in, writers);
}
