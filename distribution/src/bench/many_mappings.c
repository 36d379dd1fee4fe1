/*
 * many_mappings: a workload of bench/targets.sh. Maps N one-page anonymous mappings back to back, alternately
 * read-write (written) and read-only (never touched), so that none merges with its neighbour: N more mappings in
 * /proc/PID/maps, N/2 pages of data. Creates READYFILE, then sleeps until killed.
 *
 *   usage: many_mappings N READYFILE
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s N READYFILE\n", argv[0]);
        return 2;
    }
    long n = atol(argv[1]);
    long page = sysconf(_SC_PAGESIZE);
    char *base = mmap(NULL, (size_t) n * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (long i = 0; i < n; i++) {
        int prot = i % 2 == 0 ? PROT_READ | PROT_WRITE : PROT_READ;
        char *p = mmap(base + i * page, page, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        if (prot & PROT_WRITE) {
            p[0] = (char) i;
        }
    }
    return bench_ready_then_pause(argv[2]);
}
