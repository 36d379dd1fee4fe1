/*
 * pidfd_holder: a workload of bench/targets.sh. Holds a pidfd of itself (anon_inode:[pidfd]), which no bundled cryo
 * plugin handles, so that a dump of it is refused; creates READYFILE, then sleeps until killed.
 *
 *   usage: pidfd_holder READYFILE
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s READYFILE\n", argv[0]);
        return 2;
    }
    if (syscall(SYS_pidfd_open, getpid(), 0) < 0) {
        perror("pidfd_open");
        return 1;
    }
    return bench_ready_then_pause(argv[1]);
}
