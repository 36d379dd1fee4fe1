/*
 * shm_parent_child <workdir>: a parent and its forked child sharing one MAP_SHARED|MAP_ANONYMOUS region (16 pages).
 *
 * Before the fork the parent fills page 1; after the fork the child fills page 2 (so page 2 is in the parent's
 * page table only if the parent reads it — a dump must take it from the shared object, not from one process's
 * pages). Page 0 is the mailbox: on SIGUSR2 the parent posts a request number and a value, the child (polling every
 * 10 ms) checks pages 1 and 2 and the value, answers with a value derived from the request and its own verdict, and
 * the parent checks the answer, pages 1 and 2 and that the child is still its live child. So after a restore each
 * process must see the other's writes, both old (pages 1, 2) and new (the mailbox). The child exits when its parent
 * is gone. Prints `READY pid=<pid> child=<pid> shm=0x..`, `tick N`, and `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <sys/mman.h>
#include <sys/wait.h>

#define PAGE 4096ul
#define SHM_PAGES 16

struct mailbox {
    uint64_t request;        /* written by the parent */
    uint64_t value;          /* parent's value for this request */
    uint64_t answered;       /* written by the child: the request it answered */
    uint64_t answer;         /* child's value for that request */
    uint64_t child_ok;       /* 1 when the child saw pages 1, 2 and the value as expected */
    char child_failure[200];
};

static unsigned char parent_byte(size_t i) { return (unsigned char) (0x11 + i % 199); }
static unsigned char child_byte(size_t i) { return (unsigned char) (0x77 ^ (i % 211)); }
static uint64_t value_for(uint64_t req) { return req * 1000003ull + 17; }
static uint64_t answer_for(uint64_t req) { return req * 7919ull + 5; }

/* @return the first byte index of `page` that differs from `byte_of`, or -1 */
static long check_page(const unsigned char *shm, size_t page, unsigned char (*byte_of)(size_t)) {
    for (size_t i = 0; i < PAGE; i++) {
        if (shm[page * PAGE + i] != byte_of(i)) return (long) i;
    }
    return -1;
}

static void child_loop(unsigned char *shm, pid_t parent) {
    volatile struct mailbox *mb = (volatile struct mailbox *) shm;
    for (size_t i = 0; i < PAGE; i++) shm[2 * PAGE + i] = child_byte(i);
    __atomic_store_n(&mb->answered, 0, __ATOMIC_RELEASE);
    for (;;) {
        uint64_t req = await_request(&mb->request, &mb->answered, parent);
        long bad1 = check_page(shm, 1, parent_byte);
        long bad2 = check_page(shm, 2, child_byte);
        uint64_t ok = bad1 < 0 && bad2 < 0 && mb->value == value_for(req);
        if (!ok) {
            snprintf((char *) mb->child_failure, sizeof mb->child_failure,
                     "child saw page1 bad at %ld, page2 bad at %ld, value %llu for request %llu", bad1, bad2,
                     (unsigned long long) mb->value, (unsigned long long) req);
        }
        mb->child_ok = ok;
        mb->answer = answer_for(req);
        __atomic_store_n(&mb->answered, req, __ATOMIC_RELEASE);
    }
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    unsigned char *shm = mmap(NULL, SHM_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) die("mmap(shared anonymous)");
    for (size_t i = 0; i < PAGE; i++) shm[PAGE + i] = parent_byte(i);
    volatile struct mailbox *mb = (volatile struct mailbox *) shm;
    mb->answered = ~0ull; /* the child sets 0 once its page 2 is written */

    pid_t parent = real_getpid();
    pid_t child = fork_or_die("fork");
    if (child == 0) child_loop(shm, parent);

    install(SIGUSR2, on_verify_signal);
    wait_child_set_up(&mb->answered, 5000000000ull);
    say("READY pid=%d child=%d shm=%p", (int) parent, (int) child, shm);

    unsigned long counter = 0;
    uint64_t request = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (real_getpid() != parent) fail(&v, "pid changed");
        check_child_alive(&v, child);
        long bad1 = check_page(shm, 1, parent_byte);
        if (bad1 >= 0) fail(&v, "parent sees its page 1 changed at byte %ld", bad1);
        long bad2 = check_page(shm, 2, child_byte);
        if (bad2 >= 0) fail(&v, "parent does not see the child's page 2 (byte %ld)", bad2);

        request++;
        mb->value = value_for(request);
        if (!ask_child(&mb->request, &mb->answered, request)) {
            fail(&v, "child did not answer request %llu within 5 s (answered %llu)", (unsigned long long) request,
                 (unsigned long long) mb->answered);
        } else {
            if (mb->answer != answer_for(request)) fail(&v, "child's answer %llu is wrong", (unsigned long long) mb->answer);
            if (!mb->child_ok) fail(&v, "%s", (const char *) mb->child_failure);
        }
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d child=%d counter=%lu request=%llu", (int) parent, (int) child, counter,
                 (unsigned long long) request);
        report(&v, detail);
    }
}
