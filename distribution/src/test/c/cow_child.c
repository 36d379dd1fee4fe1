/*
 * cow_child <workdir>: a parent and its forked child that still share most of their private memory copy-on-write.
 *
 * Before the fork the parent fills two MAP_PRIVATE|MAP_ANONYMOUS regions: A (64 MiB) and B (4 MiB). After the fork
 * the child writes CHILD_WRITES pages of A with its own bytes (those become its private copies), drops CHILD_DROPS
 * pages of A (MADV_DONTNEED: they read as zeros in the child) and rewrites every page of B with the very same bytes
 * the parent has (B is then equal but no longer shared). Neither touches A or B again. A MAP_SHARED page is the mailbox: on a request the child checks its own contents of A and B and answers.
 *
 * On SIGUSR2 the parent (as root: pagemap PFNs) checks its own contents, has the child check its own, and compares
 * its pagemap with the child's (/proc/CHILD/pagemap) page by page: each untouched page of A must be the same
 * physical page in both, each page the child wrote or dropped must not be, and no page of B may be shared. So a restore that
 * gives each process its own copy fails, and so does one that shares pages that were not shared.
 * Prints `READY pid=<pid> child=<pid> a=0x.. b=0x..`, `tick N`, and `VERDICT PASS|FAIL` with
 * `shared_a=N private_a=N shared_b=N pss_parent_kb=N pss_child_kb=N rss_parent_kb=N rss_child_kb=N`.
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define PAGE 4096ul
#define A_PAGES 16384ul  /* 64 MiB */
#define B_PAGES 1024ul   /* 4 MiB */
#define CHILD_WRITES 8

static const size_t written[CHILD_WRITES] = {0, 1, 100, 4095, 4096, 9999, 16000, A_PAGES - 1};
#define CHILD_DROPS 2
static const size_t dropped[CHILD_DROPS] = {200, 12345};

struct mailbox {
    uint64_t request;
    uint64_t answered;
    uint64_t child_ok;
    char child_failure[300];
};

static unsigned char parent_byte(size_t page, size_t i) { return (unsigned char) (0x5a ^ (page * 31 + i % 251)); }
static unsigned char child_byte(size_t page, size_t i) { return (unsigned char) (0xc3 ^ (page * 17 + i % 241)); }

static int child_wrote(size_t page) {
    for (int i = 0; i < CHILD_WRITES; i++) {
        if (written[i] == page) return 1;
    }
    return 0;
}

static int child_dropped(size_t page) {
    for (int i = 0; i < CHILD_DROPS; i++) {
        if (dropped[i] == page) return 1;
    }
    return 0;
}

static void fill(unsigned char *p, size_t page, unsigned char (*byte_of)(size_t, size_t)) {
    for (size_t i = 0; i < PAGE; i++) p[page * PAGE + i] = byte_of(page, i);
}

/* @return the first page of `a`/`b` whose content is wrong as seen by the child (child=1) or parent, or -1 */
static long check_contents(const unsigned char *a, const unsigned char *b, int child, const char **which) {
    for (size_t page = 0; page < A_PAGES; page++) {
        int mine = child && child_wrote(page);
        int zero = child && child_dropped(page);
        for (size_t i = 0; i < PAGE; i += 61) {
            unsigned char want = zero ? 0 : mine ? child_byte(page, i) : parent_byte(page, i);
            if (a[page * PAGE + i] != want) {
                *which = "A";
                return (long) page;
            }
        }
    }
    for (size_t page = 0; page < B_PAGES; page++) {
        for (size_t i = 0; i < PAGE; i += 61) {
            if (b[page * PAGE + i] != parent_byte(page, i)) {
                *which = "B";
                return (long) page;
            }
        }
    }
    return -1;
}

static void child_loop(unsigned char *a, unsigned char *b, volatile struct mailbox *mb, pid_t parent) {
    for (int i = 0; i < CHILD_WRITES; i++) fill(a, written[i], child_byte);
    for (int i = 0; i < CHILD_DROPS; i++) {
        if (madvise(a + dropped[i] * PAGE, PAGE, MADV_DONTNEED) != 0) die("madvise(MADV_DONTNEED)");
    }
    for (size_t page = 0; page < B_PAGES; page++) fill(b, page, parent_byte);
    __atomic_store_n(&mb->answered, 0, __ATOMIC_RELEASE);
    for (;;) {
        uint64_t req = await_request(&mb->request, &mb->answered, parent);
        const char *which = "";
        long bad = check_contents(a, b, 1, &which);
        if (bad >= 0) {
            snprintf((char *) mb->child_failure, sizeof mb->child_failure, "child sees page %ld of %s wrong",
                     bad, which);
        }
        mb->child_ok = bad < 0;
        __atomic_store_n(&mb->answered, req, __ATOMIC_RELEASE);
    }
}

static int read_pagemap(pid_t pid, const unsigned char *addr, size_t pages, uint64_t *out) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/pagemap", (int) pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t want = pages * 8;
    off_t off = (off_t) ((uintptr_t) addr / PAGE * 8);
    size_t got = 0;
    while (got < want) {
        ssize_t n = pread(fd, (char *) out + got, want - got, off + (off_t) got);
        if (n <= 0) break;
        got += (size_t) n;
    }
    close(fd);
    return got == want ? 0 : -1;
}

/* Rss and Pss (kB) of a process from smaps_rollup; -1 when unreadable */
static void rollup(pid_t pid, long *rss, long *pss) {
    char path[64], line[256];
    *rss = *pss = -1;
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int) pid);
    FILE *f = fopen(path, "re");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "Rss: %ld kB", rss);
        sscanf(line, "Pss: %ld kB", pss);
    }
    fclose(f);
}

#define PFN(e) ((e) & ((1ull << 55) - 1))
#define PRESENT(e) (((e) >> 63) & 1)

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    unsigned char *a = mmap(NULL, A_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *b = mmap(NULL, B_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    volatile struct mailbox *mb = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED || b == MAP_FAILED || mb == MAP_FAILED) die("mmap");
    for (size_t page = 0; page < A_PAGES; page++) fill(a, page, parent_byte);
    for (size_t page = 0; page < B_PAGES; page++) fill(b, page, parent_byte);
    mb->answered = ~0ull; /* the child sets 0 once it has written its pages */

    pid_t parent = real_getpid();
    pid_t child = fork_or_die("fork");
    if (child == 0) child_loop(a, b, mb, parent);

    install(SIGUSR2, on_verify_signal);
    wait_child_set_up(&mb->answered, 10000000000ull);
    say("READY pid=%d child=%d a=%p b=%p", (int) parent, (int) child, a, b);

    static uint64_t mine_a[A_PAGES], theirs_a[A_PAGES], mine_b[B_PAGES], theirs_b[B_PAGES];
    unsigned long counter = 0;
    uint64_t request = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (real_getpid() != parent) fail(&v, "pid changed");
        check_child_alive(&v, child);

        /* physical pages first: reading the child's memory below must not change its page table */
        long shared_a = 0, private_a = 0, shared_b = 0;
        if (read_pagemap(parent, a, A_PAGES, mine_a) || read_pagemap(child, a, A_PAGES, theirs_a)
                || read_pagemap(parent, b, B_PAGES, mine_b) || read_pagemap(child, b, B_PAGES, theirs_b)) {
            fail(&v, "cannot read the pagemaps: %s", strerror(errno));
        } else {
            long bad_shared = -1, bad_private = -1, no_pfn = -1;
            for (size_t page = 0; page < A_PAGES; page++) {
                uint64_t m = mine_a[page], t = theirs_a[page];
                if (child_dropped(page)) {
                    /* not present in the child, or its zero page once it has read it: never the parent's page */
                    if (PRESENT(m) && PRESENT(t) && PFN(m) != 0 && PFN(m) == PFN(t) && bad_shared < 0) {
                        bad_shared = (long) page;
                    }
                    continue;
                }
                if (!PRESENT(m) || !PRESENT(t) || PFN(m) == 0 || PFN(t) == 0) {
                    if (no_pfn < 0) no_pfn = (long) page;
                    continue;
                }
                int same = PFN(m) == PFN(t);
                if (same) shared_a++; else private_a++;
                if (child_wrote(page) && same && bad_shared < 0) bad_shared = (long) page;
                if (!child_wrote(page) && !same && bad_private < 0) bad_private = (long) page;
            }
            for (size_t page = 0; page < B_PAGES; page++) {
                uint64_t m = mine_b[page], t = theirs_b[page];
                if (!PRESENT(m) || !PRESENT(t) || PFN(m) == 0 || PFN(t) == 0) {
                    if (no_pfn < 0) no_pfn = (long) (A_PAGES + page);
                    continue;
                }
                if (PFN(m) == PFN(t)) shared_b++;
            }
            if (no_pfn >= 0) fail(&v, "page %ld of A+B is not present with a PFN in both (not root?)", no_pfn);
            if (bad_shared >= 0) fail(&v, "page %ld of A, which the child wrote or dropped, is shared with the parent", bad_shared);
            if (bad_private >= 0) fail(&v, "page %ld of A, which nobody wrote since the fork, is not shared", bad_private);
            if (shared_b != 0) fail(&v, "%ld pages of B are shared, though both wrote them after the fork", shared_b);
        }

        const char *which = "";
        long bad = check_contents(a, b, 0, &which);
        if (bad >= 0) fail(&v, "parent sees page %ld of %s wrong", bad, which);

        request++;
        if (!ask_child_within(&mb->request, &mb->answered, request, 10000000000ull)) {
            fail(&v, "child did not answer request %llu", (unsigned long long) request);
        } else if (!mb->child_ok) {
            fail(&v, "%s", (const char *) mb->child_failure);
        }

        long rss_p, pss_p, rss_c, pss_c;
        rollup(parent, &rss_p, &pss_p);
        rollup(child, &rss_c, &pss_c);
        char detail[300];
        snprintf(detail, sizeof detail, "pid=%d child=%d shared_a=%ld private_a=%ld shared_b=%ld pss_parent_kb=%ld "
                 "pss_child_kb=%ld rss_parent_kb=%ld rss_child_kb=%ld", (int) parent, (int) child, shared_a,
                 private_a, shared_b, pss_p, pss_c, rss_p, rss_c);
        report(&v, detail);
    }
}
