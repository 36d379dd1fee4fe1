/*
 * hugetlb_memory <workdir>: one huge page (2 MiB, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB) with data; needs a reserved
 * huge page (/proc/sys/vm/nr_hugepages). On SIGUSR2 verifies the data. Prints `READY pid=<pid> huge=0x..`, `tick N`,
 * `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <sys/mman.h>

#define HUGE (2ul << 20)

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <workdir>\n", argv[0]);
        return 2;
    }
    if (chdir(argv[1]) != 0) die("chdir(workdir)");
    unsigned char *huge = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (huge == MAP_FAILED) die("mmap(MAP_HUGETLB)");
    for (size_t i = 0; i < HUGE; i += 4096) huge[i] = (unsigned char) (i >> 12);
    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d huge=%p", (int) real_getpid(), huge);
    unsigned long counter = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        for (size_t i = 0; i < HUGE; i += 4096) {
            if (huge[i] != (unsigned char) (i >> 12)) {
                fail(&v, "huge page byte %zu is %u", i, huge[i]);
                break;
            }
        }
        char detail[64];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu", (int) real_getpid(), counter);
        report(&v, detail);
    }
}
