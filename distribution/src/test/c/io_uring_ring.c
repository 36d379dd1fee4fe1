/*
 * io_uring_ring <workdir>: a process holding an io_uring instance (raw io_uring_setup, its submission and completion
 * rings mapped), as MariaDB and other servers built with liburing do. Cryo refuses to dump it (nothing can checkpoint
 * requests in flight in the kernel); the process must run on unharmed. Prints `READY pid=<pid> ring=<fd>`, `tick N`;
 * on SIGUSR2 it checks that a NOP submitted through the ring completes and prints `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <linux/io_uring.h>
#include <sys/mman.h>

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    int ring = (int) syscall(__NR_io_uring_setup, 4, &p);
    if (ring < 0) die("io_uring_setup");
    size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    size_t len = sq_len > cq_len ? sq_len : cq_len;   /* IORING_FEAT_SINGLE_MMAP: one mapping for both rings */
    char *sq = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
    struct io_uring_sqe *sqes = mmap(NULL, p.sq_entries * sizeof *sqes, PROT_READ | PROT_WRITE,
                                     MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
    if (sq == MAP_FAILED || sqes == MAP_FAILED) die("mmap(io_uring)");
    unsigned *tail = (unsigned *) (sq + p.sq_off.tail), *mask = (unsigned *) (sq + p.sq_off.ring_mask);
    unsigned *array = (unsigned *) (sq + p.sq_off.array);
    unsigned *cq_head = (unsigned *) (sq + p.cq_off.head), *cq_tail = (unsigned *) (sq + p.cq_off.tail);
    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d ring=%d", (int) real_getpid(), ring);
    unsigned long counter = 0, nops = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        unsigned t = *tail, i = t & *mask;
        memset(&sqes[i], 0, sizeof sqes[i]);
        sqes[i].opcode = IORING_OP_NOP;
        sqes[i].user_data = ++nops;
        array[i] = i;
        __atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
        long rc = syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0);
        if (rc != 1) fail(&v, "io_uring_enter: %ld (%s)", rc, strerror(errno));
        unsigned h = *cq_head;
        if (__atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == h) fail(&v, "no completion for the NOP");
        else __atomic_store_n(cq_head, h + 1, __ATOMIC_RELEASE);
        report(&v, "a NOP went through the ring");
    }
}
