/*
 * bigmem: the workload of bench/dump-restore.sh. Maps MIB MiB of private anonymous memory, writes pseudo-random
 * data into every page (so nothing is a zero page), creates READYFILE, then sleeps until killed.
 * With MIB 0 it is just a small sleeping process (the latency floor).
 *
 *   usage: bigmem MIB READYFILE
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MIB READYFILE\n", argv[0]);
        return 2;
    }
    size_t bytes = strtoul(argv[1], NULL, 10) << 20;
    if (bytes > 0) {
        uint64_t *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        uint64_t x = 0x2545f4914f6cdd1dULL;
        for (size_t i = 0; i < bytes / sizeof(uint64_t); i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            mem[i] = x;
        }
    }
    if (bench_ready(argv[2]) != 0) {
        return 1;
    }
    for (;;) {
        struct timespec ts = {1, 0};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
}
