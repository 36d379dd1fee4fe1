/*
 * orphan_group <workdir>: a process group whose leader is gone. The root (a session leader and child subreaper)
 * forks G, which founds group G and forks two members: M1 lives on, M2 exits with status 7. G then exits and is
 * reaped by the root; M1 and the zombie M2 are reparented to the root, which does not reap M2. Group G now has
 * members but no leader.
 * On SIGUSR2 the root checks: M1 and M2 are still in group G, M2 is still its zombie child with exit status 7
 * (waitid WNOWAIT), group G can still be signalled, and no process G exists (reverse check); then
 * `VERDICT PASS|FAIL`.
 * Prints `READY pid=<pid> group=<G> live=<M1> zombie=<M2>`, `tick N`.
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static char state_of(pid_t pid) {
    char st;
    pid_t ppid;
    return proc_state(pid, &st, &ppid) == 0 ? st : '?';
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) die("subreaper");
    int report_pipe[2];
    if (pipe(report_pipe) != 0) die("pipe");
    pid_t g = fork();
    if (g < 0) die("fork");
    if (g == 0) {
        if (setpgid(0, 0) != 0) die("setpgid");
        pid_t m1 = fork();
        if (m1 == 0) {
            close(report_pipe[0]);
            close(report_pipe[1]);
            for (;;) pause();
        }
        pid_t m2 = fork();
        if (m2 == 0) _exit(7);
        while (state_of(m2) != 'Z') usleep(1000);
        pid_t ids[2] = {m1, m2};
        if (write(report_pipe[1], ids, sizeof ids) != sizeof ids) _exit(1);
        _exit(0);
    }
    close(report_pipe[1]);
    pid_t ids[2];
    if (read(report_pipe[0], ids, sizeof ids) != sizeof ids) die("read member pids");
    close(report_pipe[0]);
    if (waitpid(g, NULL, 0) != g) die("waitpid(G)");
    pid_t m1 = ids[0], m2 = ids[1];
    /* M2 is reparented to us once G is gone */
    for (int i = 0; i < 5000 && getpgid(m2) >= 0 && state_of(m2) == 'Z'; i++) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t) m2, &si, WEXITED | WNOWAIT | WNOHANG) == 0 && si.si_pid == m2) break;
        usleep(1000);
    }
    install(SIGUSR2, on_verify_signal);
    pid_t pid = real_getpid();
    say("READY pid=%d group=%d live=%d zombie=%d", (int) pid, (int) g, (int) m1, (int) m2);
    unsigned long counter = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (real_getpid() != pid) fail(&v, "pid changed");
        if (getpgid(m1) != g) fail(&v, "live member %d is in group %d, not %d", (int) m1, (int) getpgid(m1), (int) g);
        if (getpgid(m2) != g) fail(&v, "zombie member %d is in group %d, not %d", (int) m2, (int) getpgid(m2), (int) g);
        if (state_of(m2) != 'Z') fail(&v, "member %d is not a zombie (%c)", (int) m2, state_of(m2));
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t) m2, &si, WEXITED | WNOWAIT | WNOHANG) != 0 || si.si_pid != m2) fail(&v, "zombie %d is not our child to wait for", (int) m2);
        else if (si.si_code != CLD_EXITED || si.si_status != 7) fail(&v, "zombie %d: code %d status %d", (int) m2, si.si_code, si.si_status);
        if (kill(-g, 0) != 0) fail(&v, "group %d cannot be signalled: %s", (int) g, strerror(errno));
        if (kill(g, 0) == 0 || errno != ESRCH) fail(&v, "a process %d exists (the group's leader came back)", (int) g);
        if (getppid() <= 0) fail(&v, "no parent");
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu group=%d", (int) pid, counter, (int) g);
        report(&v, detail);
    }
}
