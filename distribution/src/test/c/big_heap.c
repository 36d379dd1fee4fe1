/*
 * big_heap <workdir> <MiB>: one process holding MiB MiB of heap filled with a pattern, so that a dump takes a
 * while (used to interrupt cryo in mid-dump). Prints `READY pid=<pid> heapsum=<hex>` and `tick N`; on SIGUSR2 it
 * checks that the heap still holds the pattern and that its own signal mask is still empty (cryo blocks every
 * signal while it works and must give the mask back), then prints `VERDICT PASS|FAIL`.
 */
#include "workload.h"

static uint64_t sum(const uint64_t *w, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ w[i]) * 1099511628211ull;
    return h;
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 2, 2, "<MiB>");
    size_t words = (size_t) atol(argv[2]) << 17;   /* MiB * 2^20 / 8 */
    uint64_t *heap = malloc(words * sizeof *heap);
    if (!heap) die("malloc");
    for (size_t i = 0; i < words; i++) heap[i] = i * 0x9E3779B97F4A7C15ull;
    uint64_t expected = sum(heap, words);
    install(SIGUSR2, on_verify_signal);
    sigset_t none;   /* start from an empty mask, whatever the starter had blocked */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    say("READY pid=%d heapsum=%llx", (int) real_getpid(), (unsigned long long) expected);
    for (unsigned long counter = 1;; counter++) {
        say("tick %lu", counter);
        sleep_ms(100);
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;
        struct verdict v = {0};
        if (sum(heap, words) != expected) fail(&v, "heap changed");
        sigset_t now;
        sigprocmask(SIG_SETMASK, NULL, &now);
        for (int sig = 1; sig < 32; sig++) {
            if (sigismember(&now, sig)) fail(&v, "signal %d is blocked", sig);
        }
        report(&v, "heap intact, signal mask empty");
    }
}
