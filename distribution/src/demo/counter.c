/*
 * counter: the demo workload of demo.sh. Fills a 64 MiB heap with a pattern, then every 200 ms appends a line
 * "pid=P tick=N sum=S ok" to LOGFILE, where S is a checksum of the whole heap recomputed on every tick and "ok"
 * means it still equals the checksum taken right after filling (CORRUPT otherwise). After a restore the ticks go
 * on from where they were, with the same pid and the same checksum.
 *
 *   usage: counter LOGFILE
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define HEAP_BYTES (64UL << 20)

static uint64_t checksum(const uint64_t *heap, size_t words) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < words; i++) {
        h = (h ^ heap[i]) * 0x100000001b3ULL;
    }
    return h;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s LOGFILE\n", argv[0]);
        return 2;
    }
    size_t words = HEAP_BYTES / sizeof(uint64_t);
    uint64_t *heap = malloc(HEAP_BYTES);
    if (heap == NULL) {
        perror("malloc");
        return 1;
    }
    for (size_t i = 0; i < words; i++) {
        heap[i] = (i + 1) * 0x9e3779b97f4a7c15ULL;
    }
    const uint64_t expected = checksum(heap, words);

    int log = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0) {
        perror(argv[1]);
        return 1;
    }
    dprintf(log, "start pid=%d heap=%lu MiB sum=%016llx\n", (int) getpid(), HEAP_BYTES >> 20,
            (unsigned long long) expected);
    for (unsigned long tick = 1;; tick++) {
        uint64_t sum = checksum(heap, words);
        dprintf(log, "pid=%d tick=%lu sum=%016llx %s\n", (int) getpid(), tick, (unsigned long long) sum,
                sum == expected ? "ok" : "CORRUPT");
        struct timespec ts = {0, 200 * 1000 * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
}
