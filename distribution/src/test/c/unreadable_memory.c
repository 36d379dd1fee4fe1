/*
 * unreadable_memory <workdir>: memory a process holds that cannot simply be read from outside.
 *
 * - protnone: 8 private anonymous pages, pages 0-3 and 6 written, then mprotect PROT_NONE (pages 4, 5, 7 never
 *   touched: they must stay unpopulated, i.e. read zero and not be present).
 * - fileprot: a private read-write mapping of 2 pages of file `data` (workdir), page 0 written (a copy-on-write
 *   page), then mprotect PROT_NONE.
 * - guard: 8 private anonymous pages, all written, then MADV_GUARD_INSTALL on pages 2-3 and 6 (kernel 6.13+).
 * - pasteof: a MAP_PRIVATE read-write mapping of 4 pages of file `short` (workdir, 6000 bytes long): page 0 written,
 *   page 1 read (the file's partial last page); pages 2 and 3 lie past the end of the file (SIGBUS).
 *
 * On SIGUSR2 verifies: the protnone data after mprotect PROT_READ|PROT_WRITE (then PROT_NONE again) and that its
 * untouched pages are not present (pagemap; they are never read); the fileprot copy-on-write page and the file's content in page 1; the guard pages still
 * fault (SIGSEGV) and show as guard regions in pagemap (bit 58), the other guard-mapping pages hold their data; the
 * past-EOF pages still raise SIGBUS and pages 0-1 hold their data; a counter cell in protnone page 0 that each verify
 * advances (the restored memory is the dumped memory).
 * Prints `READY pid=<pid> protnone=0x.. fileprot=0x.. guard=0x.. pasteof=0x..`, `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <setjmp.h>
#include <sys/mman.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define PAGE 4096ul
#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_GUARD (1ull << 58)
#define SHORT_SIZE 6000

static unsigned char *protnone, *fileprot, *guard, *pasteof;
static sigjmp_buf probe_env;
static volatile sig_atomic_t probe_signal;

static unsigned char byte_of(int region, size_t i) { return (unsigned char) (0x11 * region + i * 5 + i / PAGE); }
static int protnone_written(size_t page) { return page < 4 || page == 6; }
static int guarded(size_t page) { return page == 2 || page == 3 || page == 6; }
static unsigned char file_byte(size_t i) { return (unsigned char) ('a' + i % 23); }

static void on_fault(int sig) {
    probe_signal = sig;
    siglongjmp(probe_env, 1);
}

/* @return the signal a read of `p` raises, 0 when it reads fine */
static int probe(volatile unsigned char *p) {
    probe_signal = 0;
    if (sigsetjmp(probe_env, 1) == 0) {
        (void) *p;
    }
    return probe_signal;
}

static uint64_t pagemap(void *addr) {
    uint64_t e = 0;
    int fd = open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0) return 0;
    if (pread(fd, &e, sizeof e, (off_t) ((uintptr_t) addr / PAGE * 8)) != sizeof e) e = 0;
    close(fd);
    return e;
}

static void write_file(const char *name, size_t size) {
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) die("open(file)");
    for (size_t i = 0; i < size; i++) {
        unsigned char b = file_byte(i);
        if (write(fd, &b, 1) != 1) die("write(file)");
    }
    close(fd);
}

static unsigned char *map_file(const char *name, size_t len) {
    int fd = open(name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open(file)");
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) die("mmap(file)");
    close(fd);
    return p;
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    sa.sa_flags = SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0 || sigaction(SIGBUS, &sa, NULL) != 0) die("sigaction(SIGSEGV, SIGBUS)");

    protnone = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (protnone == MAP_FAILED) die("mmap(protnone)");
    for (size_t i = 0; i < 8 * PAGE; i++) {
        if (protnone_written(i / PAGE)) protnone[i] = byte_of(1, i);
    }
    *(volatile uint64_t *) protnone = 1;
    if (mprotect(protnone, 8 * PAGE, PROT_NONE) != 0) die("mprotect(protnone)");

    write_file("data", 2 * PAGE);
    fileprot = map_file("data", 2 * PAGE);
    for (size_t i = 0; i < PAGE; i++) fileprot[i] = byte_of(2, i);
    if (mprotect(fileprot, 2 * PAGE, PROT_NONE) != 0) die("mprotect(fileprot)");

    guard = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (guard == MAP_FAILED) die("mmap(guard)");
    for (size_t i = 0; i < 8 * PAGE; i++) guard[i] = byte_of(3, i);
    if (madvise(guard + 2 * PAGE, 2 * PAGE, MADV_GUARD_INSTALL) != 0) die("MADV_GUARD_INSTALL");
    if (madvise(guard + 6 * PAGE, PAGE, MADV_GUARD_INSTALL) != 0) die("MADV_GUARD_INSTALL");

    write_file("short", SHORT_SIZE);
    pasteof = map_file("short", 4 * PAGE);
    for (size_t i = 0; i < PAGE; i++) pasteof[i] = byte_of(4, i);
    (void) *(volatile unsigned char *) (pasteof + PAGE);

    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d protnone=%p fileprot=%p guard=%p pasteof=%p", (int) real_getpid(), protnone, fileprot, guard,
        pasteof);

    unsigned long counter = 0, verifies = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};

        if (probe(protnone) != SIGSEGV) fail(&v, "protnone is readable without mprotect");
        if (mprotect(protnone, 8 * PAGE, PROT_READ | PROT_WRITE) != 0) {
            fail(&v, "mprotect(protnone, RW): %s", strerror(errno));
        } else {
            for (size_t page = 0; page < 8; page++) {
                if (!protnone_written(page) && (pagemap(protnone + page * PAGE) & (PM_PRESENT | PM_SWAPPED))) {
                    fail(&v, "protnone page %zu was never written but is present now", page);
                }
            }
            for (size_t i = 8; i < 8 * PAGE; i++) {
                if (!protnone_written(i / PAGE)) continue; /* reading would populate it */
                unsigned char want = byte_of(1, i);
                if (protnone[i] != want) {
                    fail(&v, "protnone byte %zu is %u, expected %u", i, protnone[i], want);
                    break;
                }
            }
            volatile uint64_t *cell = (volatile uint64_t *) protnone;
            if (*cell != verifies + 1) fail(&v, "counter cell %lu, expected %lu", (unsigned long) *cell, verifies + 1);
            *cell = verifies + 2;
            mprotect(protnone, 8 * PAGE, PROT_NONE);
        }
        verifies++;

        if (mprotect(fileprot, 2 * PAGE, PROT_READ) != 0) {
            fail(&v, "mprotect(fileprot, READ): %s", strerror(errno));
        } else {
            for (size_t i = 0; i < 2 * PAGE; i++) {
                unsigned char want = i < PAGE ? byte_of(2, i) : file_byte(i);
                if (fileprot[i] != want) {
                    fail(&v, "fileprot byte %zu is %u, expected %u", i, fileprot[i], want);
                    break;
                }
            }
            mprotect(fileprot, 2 * PAGE, PROT_NONE);
        }

        for (size_t page = 0; page < 8; page++) {
            uint64_t e = pagemap(guard + page * PAGE);
            int sig = probe(guard + page * PAGE + 100);
            if (guarded(page)) {
                if (sig != SIGSEGV) fail(&v, "guard page %zu does not fault (signal %d)", page, sig);
                if (!(e & PM_GUARD)) fail(&v, "guard page %zu: pagemap %llx without the guard bit", page,
                                          (unsigned long long) e);
            } else if (sig != 0) {
                fail(&v, "guard-mapping page %zu faults (signal %d)", page, sig);
            } else if (e & PM_GUARD) {
                fail(&v, "page %zu became a guard page", page);
            } else {
                for (size_t i = page * PAGE; i < (page + 1) * PAGE; i++) {
                    if (guard[i] != byte_of(3, i)) {
                        fail(&v, "guard-mapping byte %zu is %u, expected %u", i, guard[i], byte_of(3, i));
                        break;
                    }
                }
            }
        }

        for (size_t i = 0; i < SHORT_SIZE; i++) {
            unsigned char want = i < PAGE ? byte_of(4, i) : file_byte(i);
            if (pasteof[i] != want) {
                fail(&v, "pasteof byte %zu is %u, expected %u", i, pasteof[i], want);
                break;
            }
        }
        if (pasteof[SHORT_SIZE] != 0) fail(&v, "pasteof byte after the end of the file is %u", pasteof[SHORT_SIZE]);
        for (size_t page = 2; page < 4; page++) {
            int sig = probe(pasteof + page * PAGE);
            if (sig != SIGBUS) fail(&v, "pasteof page %zu past the end of the file: signal %d, expected SIGBUS", page, sig);
        }

        char detail[160];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu verifies=%lu", (int) real_getpid(), counter, verifies);
        report(&v, detail);
    }
}
