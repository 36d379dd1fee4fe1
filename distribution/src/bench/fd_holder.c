/*
 * fd_holder: a workload of bench/targets.sh. Opens /dev/null N times (N distinct open file descriptions), creates
 * READYFILE, then sleeps until killed. Raises its fd limit as needed.
 *
 *   usage: fd_holder N READYFILE
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s N READYFILE\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]);
    struct rlimit rl = {(rlim_t) n + 64, (rlim_t) n + 64};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        perror("setrlimit");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if (open("/dev/null", O_RDWR) < 0) {
            perror("/dev/null");
            return 1;
        }
    }
    return bench_ready_then_pause(argv[2]);
}
