/*
 * big_heap <workdir> <MiB>: one process holding MiB MiB of heap filled with a pattern, so that a dump takes a
 * while (used to interrupt cryo in mid-dump). Prints `READY pid=<pid> heapsum=<hex>` and `tick N`; on SIGUSR2 it
 * checks that the heap still holds the pattern and that its own signal mask is still empty (cryo blocks every
 * signal while it works and must give the mask back), then prints `VERDICT PASS|FAIL`.
 */
#include "workload.h"

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 2, 2, "<MiB>");
    size_t words;
    uint64_t *heap = patterned_heap(argv[2], &words);
    uint64_t expected = words_sum(heap, words);
    install(SIGUSR2, on_verify_signal);
    sigset_t none;   /* start from an empty mask, whatever the starter had blocked */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    say("READY pid=%d heapsum=%llx", (int) real_getpid(), (unsigned long long) expected);
    unsigned long counter = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (words_sum(heap, words) != expected) fail(&v, "heap changed");
        sigset_t now;
        sigprocmask(SIG_SETMASK, NULL, &now);
        for (int sig = 1; sig < 32; sig++) {
            if (sigismember(&now, sig)) fail(&v, "signal %d is blocked", sig);
        }
        report(&v, "heap intact, signal mask empty");
    }
}
