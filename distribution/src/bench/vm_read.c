/*
 * vm_read: the memory-copy floor of bench/targets.sh. Reads every readable private anonymous mapping of PID with
 * process_vm_readv, 4 MiB at a time into one buffer (no file), and prints the bytes read and the seconds taken.
 * Needs the rights to read PID's memory (root).
 *
 *   usage: vm_read PID
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PID\n", argv[0]);
        return 2;
    }
    int pid = atoi(argv[1]);
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE *maps = fopen(path, "r");
    if (maps == NULL) {
        perror(path);
        return 1;
    }
    size_t cap = 4 << 20, total = 0;
    char *buf = malloc(cap);
    memset(buf, 0, cap);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end, offset;
        char perms[5], dev[16];
        unsigned long inode;
        if (sscanf(line, "%lx-%lx %4s %lx %15s %lu", &start, &end, perms, &offset, dev, &inode) != 6) {
            continue;
        }
        if (perms[0] != 'r' || perms[3] != 'p' || inode != 0 || strstr(line, "[v") != NULL) {
            continue;
        }
        for (unsigned long at = start; at < end; at += cap) {
            size_t n = end - at < cap ? end - at : cap;
            struct iovec local = {buf, n}, remote = {(void *) at, n};
            ssize_t r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
            if (r > 0) {
                total += (size_t) r;
            }
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%zu %.6f\n", total, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
