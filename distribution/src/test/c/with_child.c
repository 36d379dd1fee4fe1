/*
 * with_child <workdir>: a workload that forks one child; the child sleeps in a loop (it dies when its parent does:
 * PR_SET_PDEATHSIG SIGKILL). On SIGUSR2 the parent checks the child is still its live child.
 * Prints `READY pid=<pid> child=<pid>`; on SIGUSR2 `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <sys/prctl.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    pid_t parent = real_getpid();
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(0);
        for (;;) pause();
    }
    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d child=%d", (int) parent, (int) child);
    unsigned long counter = 0, counter_at_verify = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        check_pid_and_counter(&v, parent, counter, counter_at_verify);
        check_child_alive(&v, child);
        counter_at_verify = counter;
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu child=%d", (int) parent, counter, (int) child);
        report(&v, detail);
    }
}
