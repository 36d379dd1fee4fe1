/*
 * subreaper: runs a command as a child subreaper (PR_SET_CHILD_SUBREAPER survives execve), so that the benchmark
 * scripts reap the processes a dump kills and a detached restore leaves behind instead of pid 1, which reaps late
 * and keeps the pids the next restore needs.
 *
 *   usage: subreaper COMMAND [ARG...]
 */
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc < 2 || prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) { perror("subreaper"); return 70; }
    execvp(argv[1], argv + 1);   /* the flag survives execve */
    perror(argv[1]);
    return 70;
}
