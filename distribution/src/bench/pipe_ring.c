/*
 * pipe_ring: a workload of bench/targets.sh. N processes — the root and N-1 children — joined in a ring by N pipes:
 * process i holds the write end of pipe i and the read end of pipe i-1 (mod N). Creates READYFILE once every child
 * runs, then sleeps until killed; a child exits when the root is gone.
 *
 *   usage: pipe_ring N READYFILE
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv) {
    if (argc != 3 || atoi(argv[1]) < 2) {
        fprintf(stderr, "usage: %s N>=2 READYFILE\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]);
    struct rlimit rl = {(rlim_t) 2 * n + 64, (rlim_t) 2 * n + 64};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        perror("setrlimit");
        return 1;
    }
    int (*p)[2] = calloc(n, sizeof *p);
    int ready[2];
    if (p == NULL || pipe(ready) != 0) {
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if (pipe(p[i]) != 0) {
            perror("pipe");
            return 1;
        }
    }
    pid_t root = getpid();
    for (int i = 1; i < n; i++) {
        if (fork() == 0) {
            for (int j = 0; j < n; j++) {
                if (j != i - 1) {
                    close(p[j][0]);
                }
                if (j != i) {
                    close(p[j][1]);
                }
            }
            close(ready[0]);
            close(ready[1]);   /* the root sees EOF once every child got here */
            for (;;) {
                if (getppid() != root) {
                    _exit(0);
                }
                sleep(1);
            }
        }
    }
    for (int j = 0; j < n; j++) {
        if (j != n - 1) {
            close(p[j][0]);
        }
        if (j != 0) {
            close(p[j][1]);
        }
    }
    close(ready[1]);
    char b;
    while (read(ready[0], &b, 1) > 0) {
    }
    close(ready[0]);
    return bench_ready_then_pause(argv[2]);
}
