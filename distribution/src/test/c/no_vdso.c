/*
 * no_vdso <workdir>: a process that unmapped its [vdso] (found in /proc/self/maps). glibc keeps pointers into the
 * vdso, so from then on this program reads clocks with the raw system call only (never clock_gettime(3) of libc).
 *
 * On SIGUSR2 verifies: there is still no [vdso] in /proc/self/maps (a restore must not bring one back); 64 KiB of
 * heap data; a counter cell that each verify advances (the restored memory is the dumped memory); that the raw
 * clock_gettime system call works. Prints `READY pid=<pid> vdso=0x..` (where it was), `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <sys/mman.h>

#define HEAP_BYTES (64 * 1024)

static int find_vdso(unsigned long *start, unsigned long *end) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", start, end) == 2) found = 1;
    }
    fclose(f);
    return found;
}

static uint64_t raw_monotonic_ns(void) {
    struct timespec ts;
    if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0) return 0;
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static unsigned char byte_of(size_t i) { return (unsigned char) (i * 11 + 3); }

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    unsigned char *heap = malloc(HEAP_BYTES);
    if (!heap) die("malloc");
    for (size_t i = 0; i < HEAP_BYTES; i++) heap[i] = byte_of(i);
    unsigned long start, end;
    if (find_vdso(&start, &end) != 1) die("no [vdso] in /proc/self/maps");
    if (munmap((void *) start, end - start) != 0) die("munmap([vdso])");
    unsigned long s2, e2;
    if (find_vdso(&s2, &e2) != 0) die("[vdso] still mapped");
    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d vdso=0x%lx", (int) real_getpid(), start);

    volatile uint64_t *cell = (volatile uint64_t *) heap;
    *cell = 1;
    unsigned long counter = 0, verifies = 0;
    for (;;) {
        counter++;
        say("tick %lu", counter);
        struct timespec ts = {0, 100 * 1000 * 1000};
        while (!wl_verify_requested && syscall(SYS_nanosleep, &ts, &ts) != 0 && errno == EINTR) {
        }
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;
        struct verdict v = {0};
        if (find_vdso(&s2, &e2) != 0) fail(&v, "a [vdso] is mapped again at %lx-%lx", s2, e2);
        for (size_t i = 8; i < HEAP_BYTES; i++) {
            if (heap[i] != byte_of(i)) {
                fail(&v, "heap byte %zu is %u, expected %u", i, heap[i], byte_of(i));
                break;
            }
        }
        if (*cell != verifies + 1) fail(&v, "counter cell %lu, expected %lu", (unsigned long) *cell, verifies + 1);
        verifies++;
        *cell = verifies + 1;
        if (raw_monotonic_ns() == 0) fail(&v, "clock_gettime system call failed: %s", strerror(errno));
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu verifies=%lu", (int) real_getpid(), counter, verifies);
        report(&v, detail);
    }
}
