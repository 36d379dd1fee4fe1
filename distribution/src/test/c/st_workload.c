/*
 * st_workload <workdir>: the single-threaded reference workload of the dump/restore tests.
 *
 * Holds, and on SIGUSR2 verifies: its pid; a 64 MiB malloc'd heap filled from a seed (checksum kept); a private
 * mapping of a 4-page file with pages 0 and 2 written (1 and 3 must still be the file's); <workdir>/append.log opened
 * O_WRONLY|O_APPEND (a numbered line per tick); <workdir>/input.txt opened O_RDONLY at offset 100; stdin /dev/null;
 * SIGUSR1 (counter) / SIGUSR2 (verify) / SIGALRM (ITIMER_REAL, 50 ms interval) handlers; umask 027; cwd = workdir;
 * RLIMIT_NOFILE soft 1000.
 *
 * Prints `READY pid=<pid> heap=0x<addr> heaplen=<bytes> heapsum=<hex>` once set up. The heap checksum is computed
 * over the heap as little-endian u64 words w: h = 0xcbf29ce484222325; for each w: h ^= w; h *= 0x100000001b3
 * (FNV-1a over words); dev.cryo.it.Checksums#heapSum computes the same.
 */
#include "workload.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>

#define HEAP_BYTES (64ul << 20)
#define PAGE 4096ul
#define MAPPED_PAGES 4
#define INPUT_BYTES 8192
#define INPUT_OFFSET 100
#define INPUT_PEEK 16
#define NOFILE_SOFT 1000
#define TICK_MS 100

static volatile sig_atomic_t usr1_count;
static volatile sig_atomic_t alarm_count;

static void on_usr1(int sig) { (void) sig; usr1_count++; }
static void on_alarm(int sig) { (void) sig; alarm_count++; }

static uint64_t heap_sum(const uint64_t *words, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= words[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Byte i of the file that is mapped privately: file content, distinct per page. */
static unsigned char file_byte(size_t i) { return (unsigned char) ('a' + (i / PAGE) * 3 + (i % 7)); }
/* Byte i of the pages the workload writes into its private mapping. */
static unsigned char written_byte(size_t i) { return (unsigned char) (0x80 ^ (i * 31 + 7)); }
/* Byte i of input.txt: printable and position-dependent. */
static char input_byte(size_t i) { return (char) ('0' + (i * 7 + i / 97) % 75); }

static void write_all(int fd, const void *buf, size_t n, const char *what) {
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            die(what);
        }
        p += w;
        n -= (size_t) w;
    }
}

static void create_file(const char *path, unsigned char (*byte)(size_t), size_t len) {
    unsigned char *buf = malloc(len);
    if (!buf) die("malloc");
    for (size_t i = 0; i < len; i++) buf[i] = byte(i);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die(path);
    write_all(fd, buf, len, path);
    close(fd);
    free(buf);
}

static unsigned char input_ubyte(size_t i) { return (unsigned char) input_byte(i); }

/* Reads the whole file at path (small files only); returns its length or -1. */
static ssize_t slurp(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = 0;
    for (;;) {
        if (len == cap) break;
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t) r;
    }
    close(fd);
    return (ssize_t) len;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <workdir>\n", argv[0]);
        return 2;
    }
    char workdir[PATH_MAX];
    if (!realpath(argv[1], workdir)) die("realpath(workdir)");
    if (chdir(workdir) != 0) die("chdir(workdir)");
    umask(027);
    /* an alternate signal stack (Go and Rust programs depend on theirs) */
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) die("sigaltstack");

    pid_t pid = real_getpid();

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) die("getrlimit");
    rl.rlim_cur = NOFILE_SOFT;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < NOFILE_SOFT) rl.rlim_max = NOFILE_SOFT;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) die("setrlimit");

    /* the heap: 64 MiB, filled from a seed (xorshift64) */
    uint64_t *heap = malloc(HEAP_BYTES);
    if (!heap) die("malloc(heap)");
    uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t) pid;
    for (size_t i = 0; i < HEAP_BYTES / 8; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        heap[i] = x;
    }
    uint64_t heapsum = heap_sum(heap, HEAP_BYTES / 8);

    /* a private mapping of a file: pages 0 and 2 written, 1 and 3 still the file's */
    char mapped_path[PATH_MAX + 32];
    snprintf(mapped_path, sizeof mapped_path, "%s/mapped.bin", workdir);
    create_file(mapped_path, file_byte, MAPPED_PAGES * PAGE);
    int mfd = open(mapped_path, O_RDONLY | O_CLOEXEC);
    if (mfd < 0) die("open(mapped.bin)");
    unsigned char *map = mmap(NULL, MAPPED_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd, 0);
    if (map == MAP_FAILED) die("mmap(mapped.bin)");
    close(mfd);
    for (size_t p = 0; p < MAPPED_PAGES; p += 2)
        for (size_t i = p * PAGE; i < (p + 1) * PAGE; i++) map[i] = written_byte(i);

    /* input.txt, read up to offset 100 */
    char input_path[PATH_MAX + 32];
    snprintf(input_path, sizeof input_path, "%s/input.txt", workdir);
    create_file(input_path, input_ubyte, INPUT_BYTES);
    int infd = open(input_path, O_RDONLY);
    if (infd < 0) die("open(input.txt)");
    char skip[INPUT_OFFSET];
    if (read(infd, skip, sizeof skip) != (ssize_t) sizeof skip) die("read(input.txt)");

    /* append.log */
    char append_path[PATH_MAX + 32];
    snprintf(append_path, sizeof append_path, "%s/append.log", workdir);
    int appfd = open(append_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (appfd < 0) die("open(append.log)");

    install(SIGUSR1, on_usr1);
    install(SIGUSR2, on_verify_signal);
    install(SIGALRM, on_alarm);
    struct itimerval it = {{0, 50000}, {0, 50000}};
    if (setitimer(ITIMER_REAL, &it, NULL) != 0) die("setitimer");

    say("READY pid=%d heap=%p heaplen=%lu heapsum=%016llx append=%d input=%d", (int) pid, (void *) heap,
        HEAP_BYTES, (unsigned long long) heapsum, appfd, infd);

    unsigned long counter = 0, counter_at_verify = 0;
    unsigned long last_line = 0;
    int alarms_at_verify = 0;
    for (;;) {
        counter++;
        char line[64];
        int n = snprintf(line, sizeof line, "tick %lu\n", counter);
        write_all(appfd, line, (size_t) n, "write(append.log)");
        last_line = counter;
        say("tick %lu", counter);
        sleep_ms(TICK_MS);
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;

        struct verdict v = {0};
        pid_t now = real_getpid();
        if (now != pid) fail(&v, "pid %d != recorded %d", (int) now, (int) pid);
        uint64_t sum = heap_sum(heap, HEAP_BYTES / 8);
        if (sum != heapsum) fail(&v, "heap checksum %016llx != %016llx", (unsigned long long) sum, (unsigned long long) heapsum);
        if (counter <= counter_at_verify) fail(&v, "counter %lu did not advance past %lu", counter, counter_at_verify);
        for (size_t i = 0; i < MAPPED_PAGES * PAGE; i++) {
            int page = (int) (i / PAGE);
            unsigned char want = page % 2 == 0 ? written_byte(i) : file_byte(i);
            if (map[i] != want) {
                fail(&v, "mapped.bin private page %d byte %zu is %02x, want %02x", page, i % PAGE, map[i], want);
                break;
            }
        }
        /* append.log: O_APPEND writes land at the end, no hole, the last line is ours */
        {
            static char buf[1 << 20];
            ssize_t len = slurp(append_path, buf, sizeof buf);
            char want[64];
            int wl = snprintf(want, sizeof want, "tick %lu\n", last_line);
            if (len < 0) fail(&v, "append.log unreadable: %s", strerror(errno));
            else if (memchr(buf, 0, (size_t) len)) fail(&v, "append.log has a hole (NUL byte)");
            else if (len < wl || memcmp(buf + len - wl, want, (size_t) wl) != 0)
                fail(&v, "append.log does not end with 'tick %lu'", last_line);
            struct stat st;
            if (fstat(appfd, &st) != 0) fail(&v, "fstat(append fd): %s", strerror(errno));
            else if (len >= 0 && st.st_size != len) fail(&v, "append fd size %lld != file size %zd", (long long) st.st_size, len);
            int fl = fcntl(appfd, F_GETFL);
            if (fl < 0 || !(fl & O_APPEND)) fail(&v, "append fd lost O_APPEND (flags %o)", fl);
        }
        /* input.txt: the offset is still 100 and the next bytes are right; put the offset back */
        {
            off_t pos = lseek(infd, 0, SEEK_CUR);
            if (pos != INPUT_OFFSET) fail(&v, "input.txt offset %lld != %d", (long long) pos, INPUT_OFFSET);
            char peek[INPUT_PEEK];
            ssize_t r = read(infd, peek, sizeof peek);
            if (r != INPUT_PEEK) fail(&v, "input.txt read returned %zd", r);
            else
                for (int i = 0; i < INPUT_PEEK; i++)
                    if (peek[i] != input_byte((size_t) (pos + i))) {
                        fail(&v, "input.txt byte %lld wrong", (long long) (pos + i));
                        break;
                    }
            lseek(infd, INPUT_OFFSET, SEEK_SET);
            int fl = fcntl(infd, F_GETFL);
            if (fl < 0 || (fl & O_ACCMODE) != O_RDONLY) fail(&v, "input fd flags %o", fl);
        }
        /* stdin is /dev/null */
        {
            struct stat st;
            if (fstat(0, &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
                fail(&v, "stdin is not /dev/null");
        }
        /* SIGALRM ticks still arrive, the timer keeps its 50 ms interval */
        {
            int a0 = alarm_count;
            uint64_t until = monotonic_ns() + 1000000000ull;
            while (alarm_count == a0 && monotonic_ns() < until) {
                struct timespec ts = {0, 10000000};
                nanosleep(&ts, NULL);
            }
            if (alarm_count == a0) fail(&v, "no SIGALRM within 1 s (count %d)", a0);
            if (alarm_count <= alarms_at_verify) fail(&v, "SIGALRM count %d did not advance past %d", alarm_count, alarms_at_verify);
            alarms_at_verify = alarm_count;
            struct itimerval cur;
            if (getitimer(ITIMER_REAL, &cur) != 0 || cur.it_interval.tv_sec != 0 || cur.it_interval.tv_usec != 50000)
                fail(&v, "ITIMER_REAL interval is not 50 ms");
        }
        /* SIGUSR1 handler still installed */
        {
            int u0 = usr1_count;
            raise(SIGUSR1);
            if (usr1_count != u0 + 1) fail(&v, "SIGUSR1 handler did not run (count %d -> %d)", u0, (int) usr1_count);
        }
        /* sigaltstack, umask, cwd, rlimit */
        {
            stack_t now_ss;
            if (sigaltstack(NULL, &now_ss) != 0 || now_ss.ss_sp != altstack || now_ss.ss_size != sizeof altstack
                    || (now_ss.ss_flags & SS_DISABLE))
                fail(&v, "sigaltstack lost (sp %p size %zu flags %d)", now_ss.ss_sp, now_ss.ss_size, now_ss.ss_flags);
        }
        {
            mode_t m = umask(027);
            if (m != 027) fail(&v, "umask %03o != 027", (unsigned) m);
            char cwd[PATH_MAX];
            if (!getcwd(cwd, sizeof cwd)) fail(&v, "getcwd: %s", strerror(errno));
            else if (strcmp(cwd, workdir) != 0) fail(&v, "cwd %s != %s", cwd, workdir);
            struct rlimit now_rl;
            if (getrlimit(RLIMIT_NOFILE, &now_rl) != 0 || now_rl.rlim_cur != NOFILE_SOFT)
                fail(&v, "RLIMIT_NOFILE soft %llu != %d", (unsigned long long) now_rl.rlim_cur, NOFILE_SOFT);
        }
        counter_at_verify = counter;
        char detail[256];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu alarms=%d usr1=%d heapsum=%016llx", (int) pid, counter,
                 (int) alarm_count, (int) usr1_count, (unsigned long long) heapsum);
        report(&v, detail);
    }
}
