/*
 * tree_fds <workdir>: open file descriptions shared across fork.
 *
 * The root opens <workdir>/shared.log with O_APPEND and <workdir>/offset.dat without it, then forks three writers.
 * All four processes append fixed-size records (`rec w=<writer> seq=<n> pid=<pid>` padded to 48 bytes) to the one
 * O_APPEND description: the writers every 5 ms, the root once per tick. Each writer publishes the last sequence
 * number it wrote in a MAP_SHARED|MAP_ANONYMOUS area. Writer 1 also shares offset.dat's description (one offset)
 * with the root.
 *
 * On SIGUSR2 the root checks:
 *   - the log: size a multiple of 48, every record well formed, per writer the sequence numbers are exactly
 *     1, 2, 3... (no record lost, none overwritten, none written twice) and reach at least what the writer had
 *     published before the log was read;
 *   - the shared offset: the root writes 16 bytes to offset.dat, asks writer 1, which must see the offset the root's
 *     write left, write 16 bytes of its own and report; the root must then see the offset writer 1's write left;
 *     the file holds both records where the offsets say;
 *   - the writers are still its live children and still write.
 * A writer exits when the root is gone. Prints `READY pid=<root> w1=.. w2=.. w3=..`, `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define NW 4 /* writer 0 is the root */
#define REC 48
#define OREC 16

struct area {
    volatile uint64_t published[NW];
    volatile uint64_t off_request;  /* written by the root */
    volatile uint64_t off_answered; /* written by writer 1 */
    volatile int64_t off_before;    /* writer 1's offset when it saw the request */
    volatile int64_t off_after;     /* writer 1's offset after its own write */
    char off_failure[200];
};

static struct area *ar;
static int log_fd, off_fd;

static void write_record(int w, uint64_t seq) {
    char buf[REC + 1];
    int n = snprintf(buf, sizeof buf, "rec w=%d seq=%08llu pid=%07d ", w, (unsigned long long) seq,
                     (int) real_getpid());
    memset(buf + n, '.', REC - 1 - n);
    buf[REC - 1] = '\n';
    ssize_t r;
    do {
        r = write(log_fd, buf, REC);
    } while (r < 0 && errno == EINTR);
    if (r != REC) {
        say("writer %d: write(shared.log) returned %zd: %s", w, r, strerror(errno));
        return;
    }
    __atomic_store_n(&ar->published[w], seq, __ATOMIC_RELEASE);
}

static void writer_loop(int w, pid_t root) {
    uint64_t seq = 0;
    for (;;) {
        if (getppid() != root) _exit(0);
        write_record(w, ++seq);
        if (w == 1) {
            uint64_t req = __atomic_load_n(&ar->off_request, __ATOMIC_ACQUIRE);
            if (req != 0 && req != ar->off_answered) {
                ar->off_before = lseek(off_fd, 0, SEEK_CUR);
                char rec[32];
                snprintf(rec, sizeof rec, "C%014llu\n", (unsigned long long) req);
                if (write(off_fd, rec, OREC) != OREC)
                    snprintf(ar->off_failure, sizeof ar->off_failure, "writer 1: write(offset.dat): %s", strerror(errno));
                ar->off_after = lseek(off_fd, 0, SEEK_CUR);
                __atomic_store_n(&ar->off_answered, req, __ATOMIC_RELEASE);
            }
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void check_log(struct verdict *v) {
    uint64_t published[NW];
    for (int w = 0; w < NW; w++) published[w] = __atomic_load_n(&ar->published[w], __ATOMIC_ACQUIRE);
    int fd = open("shared.log", O_RDONLY);
    if (fd < 0) { fail(v, "open(shared.log): %s", strerror(errno)); return; }
    off_t size = lseek(fd, 0, SEEK_END);
    /* writers keep appending: check the whole records present now */
    size_t len = (size_t) size - (size_t) size % REC;
    char *buf = malloc(len + 1);
    ssize_t got = pread(fd, buf, len, 0);
    close(fd);
    if (got != (ssize_t) len) { fail(v, "pread(shared.log): %zd of %zu", got, len); free(buf); return; }
    uint64_t next[NW] = {1, 1, 1, 1};
    int bad = 0;
    for (size_t off = 0; off < len && bad < 3; off += REC) {
        int w; unsigned long long seq; int pid;
        char *r = buf + off;
        if (sscanf(r, "rec w=%d seq=%llu pid=%d ", &w, &seq, &pid) != 3 || w < 0 || w >= NW || r[REC - 1] != '\n') {
            fail(v, "malformed record at offset %zu: \"%.47s\"", off, r);
            bad++;
            continue;
        }
        if (seq != next[w]) {
            fail(v, "writer %d: record seq %llu at offset %zu, expected %llu", w, seq, off,
                 (unsigned long long) next[w]);
            bad++;
        }
        next[w] = seq + 1;
    }
    for (int w = 0; w < NW; w++) {
        if (next[w] - 1 < published[w])
            fail(v, "writer %d published seq %llu but the log ends at %llu", w, (unsigned long long) published[w],
                 (unsigned long long) (next[w] - 1));
    }
    free(buf);
}

static void check_offset(struct verdict *v, uint64_t req) {
    char rec[32], back[OREC + 1] = {0};
    snprintf(rec, sizeof rec, "R%014llu\n", (unsigned long long) req);
    if (write(off_fd, rec, OREC) != OREC) { fail(v, "root: write(offset.dat): %s", strerror(errno)); return; }
    off_t mine = lseek(off_fd, 0, SEEK_CUR);
    __atomic_store_n(&ar->off_request, req, __ATOMIC_RELEASE);
    uint64_t until = monotonic_ns() + 5000000000ull;
    while (__atomic_load_n(&ar->off_answered, __ATOMIC_ACQUIRE) != req && monotonic_ns() < until) sleep_ms(2);
    if (ar->off_answered != req) { fail(v, "writer 1 did not answer offset request %llu", (unsigned long long) req); return; }
    if (ar->off_failure[0]) fail(v, "%s", ar->off_failure);
    if (ar->off_before != mine)
        fail(v, "shared offset: root's write left it at %lld, writer 1 saw %lld", (long long) mine, (long long) ar->off_before);
    off_t now = lseek(off_fd, 0, SEEK_CUR);
    if (now != ar->off_after)
        fail(v, "shared offset: writer 1's write left it at %lld, root sees %lld", (long long) ar->off_after, (long long) now);
    if (pread(off_fd, back, OREC, mine - OREC) != OREC || memcmp(back, rec, OREC) != 0)
        fail(v, "offset.dat at %lld holds \"%.15s\", not the root's record", (long long) (mine - OREC), back);
    snprintf(rec, sizeof rec, "C%014llu\n", (unsigned long long) req);
    if (pread(off_fd, back, OREC, ar->off_before) != OREC || memcmp(back, rec, OREC) != 0)
        fail(v, "offset.dat at %lld holds \"%.15s\", not writer 1's record", (long long) ar->off_before, back);
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    ar = mmap(NULL, sizeof *ar, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ar == MAP_FAILED) die("mmap(shared anonymous)");
    log_fd = open("shared.log", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (log_fd < 0) die("open(shared.log)");
    off_fd = open("offset.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (off_fd < 0) die("open(offset.dat)");
    install(SIGUSR2, on_verify_signal);
    pid_t root = real_getpid();
    pid_t kids[NW] = {root};
    for (int w = 1; w < NW; w++) {
        kids[w] = fork();
        if (kids[w] < 0) die("fork");
        if (kids[w] == 0) {
            if (w != 1) close(off_fd);
            writer_loop(w, root);
        }
    }
    for (int w = 1; w < NW; w++) {
        while (__atomic_load_n(&ar->published[w], __ATOMIC_ACQUIRE) == 0) sleep_ms(1);
    }
    say("READY pid=%d w1=%d w2=%d w3=%d log_fd=%d off_fd=%d", (int) root, (int) kids[1], (int) kids[2],
        (int) kids[3], log_fd, off_fd);

    unsigned long counter = 0;
    uint64_t seq = 0, request = 0;
    for (;;) {
        counter++;
        write_record(0, ++seq);
        say("tick %lu", counter);
        sleep_ms(100);
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;
        struct verdict v = {0};
        uint64_t before[NW];
        for (int w = 1; w < NW; w++) {
            int st;
            pid_t r = waitpid(kids[w], &st, WNOHANG);
            if (r != 0) fail(&v, "writer %d (pid %d) is no longer a live child (waitpid=%d)", w, (int) kids[w], (int) r);
            before[w] = ar->published[w];
        }
        check_offset(&v, ++request);
        check_log(&v);
        sleep_ms(50);
        for (int w = 1; w < NW; w++) {
            if (ar->published[w] == before[w]) fail(&v, "writer %d stopped writing at seq %llu", w,
                                                   (unsigned long long) before[w]);
        }
        char detail[160];
        snprintf(detail, sizeof detail, "pid=%d request=%llu records=%llu+%llu+%llu+%llu", (int) root,
                 (unsigned long long) request, (unsigned long long) ar->published[0],
                 (unsigned long long) ar->published[1], (unsigned long long) ar->published[2],
                 (unsigned long long) ar->published[3]);
        report(&v, detail);
    }
}
