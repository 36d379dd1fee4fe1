/*
 * with_thread <workdir>: a workload with a second pthread (build with -pthread; glibc >= 2.34 needs no flag).
 * The second thread counts in a loop; on SIGUSR2 the main thread checks that both counters advanced.
 * Prints `READY pid=<pid> tid2=<tid>`; on SIGUSR2 `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <pthread.h>

static volatile unsigned long worker_count;
static volatile pid_t worker_tid;

static void *worker(void *arg) {
    (void) arg;
    worker_tid = (pid_t) syscall(SYS_gettid);
    for (;;) {
        worker_count++;
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    install(SIGUSR2, on_verify_signal);
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0) die("pthread_create");
    while (worker_tid == 0) sleep_ms(1);
    pid_t pid = real_getpid();
    say("READY pid=%d tid2=%d", (int) pid, (int) worker_tid);
    unsigned long counter = 0, counter_at_verify = 0, worker_at_verify = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (real_getpid() != pid) fail(&v, "pid changed");
        if (counter <= counter_at_verify) fail(&v, "main counter did not advance");
        unsigned long w0 = worker_count;
        for (int i = 0; i < 100 && worker_count == w0; i++) sleep_ms(10);
        if (worker_count == w0 || worker_count <= worker_at_verify) fail(&v, "worker thread %d stopped counting", (int) worker_tid);
        counter_at_verify = counter;
        worker_at_verify = worker_count;
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu worker=%lu", (int) pid, counter, worker_count);
        report(&v, detail);
    }
}
