/*
 * hugetlb_memory <workdir> [FILE]: hugetlb memory (needs 2 reserved huge pages of 2 MiB, /proc/sys/vm/nr_hugepages):
 *   huge    one private huge page (MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB) with data
 *   shared  one shared huge page (MAP_SHARED|MAP_ANONYMOUS|MAP_HUGETLB) with data, shared with a forked child (which
 *           unmaps its copy of `huge`); the child answers requests the parent writes into the shared page
 * With FILE (on a hugetlbfs mount), `huge` is a MAP_SHARED mapping of that file instead (a dump refuses it).
 * On SIGUSR2 the parent verifies both contents, that both mappings are still hugetlb memory of 2048 kB pages (smaps
 * `ht`, KernelPageSize) at the same addresses, and that the child still sees and writes the same shared page.
 * Prints `READY pid=<pid> huge=0x.. shared=0x.. child=<pid>`, `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/mman.h>

#define HUGE (2ul << 20)

struct talk {
    volatile uint64_t request;
    volatile uint64_t answer;
};

static unsigned char pattern(size_t i, unsigned char salt) {
    return (unsigned char) ((i >> 12) ^ salt);
}

/* Checks that the mapping starting at `addr` in /proc/self/smaps is hugetlb with 2048 kB pages. */
static void check_smaps(struct verdict *v, const char *what, void *addr) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) {
        fail(v, "open smaps: %s", strerror(errno));
        return;
    }
    char line[512];
    int in = 0, found = 0, ht = 0;
    long page_kb = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long start, end;
        if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = start == (unsigned long) addr;
            found |= in;
        } else if (in && strncmp(line, "KernelPageSize:", 15) == 0) {
            page_kb = atol(line + 15);
        } else if (in && strncmp(line, "VmFlags:", 8) == 0) {
            ht = strstr(line, " ht") != NULL;
        }
    }
    fclose(f);
    if (!found) fail(v, "%s: no mapping at %p", what, addr);
    else if (!ht || page_kb != 2048) fail(v, "%s: not hugetlb of 2048 kB pages (ht %d, KernelPageSize %ld kB)", what,
                                          ht, page_kb);
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s <workdir> [FILE]\n", argv[0]);
        return 2;
    }
    if (chdir(argv[1]) != 0) die("chdir(workdir)");
    unsigned char *huge;
    if (argc == 3) {
        int fd = open(argv[2], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) die("open(FILE)");
        if (ftruncate(fd, HUGE) != 0) die("ftruncate(FILE)");
        huge = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
    } else {
        huge = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    }
    if (huge == MAP_FAILED) die("mmap(huge)");
    unsigned char *shared = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (shared == MAP_FAILED) die("mmap(MAP_SHARED|MAP_HUGETLB)");
    for (size_t i = 0; i < HUGE; i += 4096) huge[i] = pattern(i, 0);
    for (size_t i = 4096; i < HUGE; i += 4096) shared[i] = pattern(i, 0x5a);
    struct talk *talk = (struct talk *) shared;
    pid_t parent = real_getpid();
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        munmap(huge, HUGE); /* the parent's private page only: a restore maps what each process has */
        for (;;) {
            uint64_t want = talk->request;
            if (talk->answer != want) talk->answer = want;
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
            if (getppid() != parent) _exit(0);
        }
    }
    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d huge=%p shared=%p child=%d", (int) parent, huge, shared, (int) child);
    unsigned long counter = 0, verifies = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        for (size_t i = 0; i < HUGE; i += 4096) {
            if (huge[i] != pattern(i, 0)) {
                fail(&v, "private huge page byte %zu is %u", i, huge[i]);
                break;
            }
        }
        for (size_t i = 4096; i < HUGE; i += 4096) {
            if (shared[i] != pattern(i, 0x5a)) {
                fail(&v, "shared huge page byte %zu is %u", i, shared[i]);
                break;
            }
        }
        check_smaps(&v, "private huge page", huge);
        check_smaps(&v, "shared huge page", shared);
        uint64_t req = talk->request + 1;
        talk->request = req;
        uint64_t deadline = monotonic_ns() + 5000000000ull;
        while (talk->answer != req && monotonic_ns() < deadline) sleep_ms(2);
        if (talk->answer != req) fail(&v, "the child (pid %d) did not answer through the shared huge page", (int) child);
        verifies++;
        char detail[96];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu verifies=%lu", (int) parent, counter, verifies);
        report(&v, detail);
    }
}
