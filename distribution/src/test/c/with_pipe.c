/*
 * with_pipe <workdir> [internal|external]: a single-threaded workload that holds a pipe.
 *
 * internal (default): holds both ends of one pipe (read end fd printed as rfd, write end as wfd); every tick writes
 *   a numbered message into the pipe and reads it back, so the pipe's content is checked continuously.
 * external: holds only the read end; the write end belongs to a helper process that is NOT in its tree (double
 *   fork: the helper's parent exits, so it is reparented to the nearest subreaper). The helper's pid is printed as
 *   helper=<pid>; the test must kill it. The helper writes one byte per second; the workload drains them.
 * Prints `READY pid=<pid> rfd=<n> wfd=<n|-1> helper=<pid|0>`; on SIGUSR2 `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 2, "[internal|external]");
    int external = argc == 3 && strcmp(argv[2], "external") == 0;
    int p[2];
    if (pipe(p) != 0) die("pipe");
    pid_t helper = 0;
    if (external) {
        helper = start_outside_writer(p, 1000000);
        p[1] = -1;
    }
    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d rfd=%d wfd=%d helper=%d", (int) real_getpid(), p[0], p[1], (int) helper);

    unsigned long counter = 0, counter_at_verify = 0, roundtrip_errors = 0, drained = 0;
    pid_t pid = real_getpid();
    for (;;) {
        counter++;
        if (!external) {
            char msg[32], back[32];
            int n = snprintf(msg, sizeof msg, "m%lu", counter);
            if (write(p[1], msg, (size_t) n) != n || read(p[0], back, (size_t) n) != n || memcmp(msg, back, (size_t) n) != 0)
                roundtrip_errors++;
        } else {
            char buf[64];
            ssize_t r;
            while ((r = read(p[0], buf, sizeof buf)) > 0) drained += (unsigned long) r;
        }
        say("tick %lu", counter);
        sleep_ms(100);
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;
        struct verdict v = {0};
        check_pid_and_counter(&v, pid, counter, counter_at_verify);
        if (roundtrip_errors) fail(&v, "%lu pipe round trips failed", roundtrip_errors);
        counter_at_verify = counter;
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu drained=%lu", (int) pid, counter, drained);
        report(&v, detail);
    }
}
