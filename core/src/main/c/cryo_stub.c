/*
 * cryo-stub: the process restore rebuilds into. Static, no libc start-up, no TLS, no rseq, no signal handlers:
 * a known, minimal starting state. Cryo starts it with posix_spawn, seizes it, and replaces everything it has.
 * It dies with the cryo thread that started it (PR_SET_PDEATHSIG: cryo killed between the spawn and the seize),
 * and if nothing seizes it, it exits after a minute rather than linger.
 */
#include <sys/syscall.h>

static long sys(long nr, long a, long b) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return ret;
}

__attribute__((noreturn, force_align_arg_pointer)) void _start(void) {
    long parent = sys(SYS_getppid, 0, 0);
    sys(SYS_prctl, 1 /* PR_SET_PDEATHSIG */, 9 /* SIGKILL */);
    if (sys(SYS_getppid, 0, 0) != parent) {   /* cryo died before the prctl */
        sys(SYS_exit_group, 0, 0);
    }
    struct { long sec, nsec; } ts = {1, 0};
    for (int i = 0; i < 60; i++) {
        sys(SYS_nanosleep, (long) &ts, 0);
    }
    sys(SYS_exit_group, 0, 0);
    for (;;) {
    }
}
