/*
 * Shared by the bench workloads (header only: the bench scripts compile each NAME.c on its own). A workload sets
 * itself up, then creates its ready file, which the script waits for before it dumps.
 */
#ifndef CRYO_BENCH_H
#define CRYO_BENCH_H

/* every workload uses only some of these helpers */
#pragma GCC diagnostic ignored "-Wunused-function"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* Creates the ready file PATH: 0, or -1 after perror(PATH). */
static int bench_ready(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror(path);
        return -1;
    }
    close(fd);
    return 0;
}

/* Creates the ready file PATH, then sleeps in pause() until killed; returns 1 only when PATH cannot be created. */
static int bench_ready_then_pause(const char *path) {
    if (bench_ready(path) != 0) {
        return 1;
    }
    for (;;) {
        pause();
    }
}

#endif
