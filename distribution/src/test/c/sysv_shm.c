/*
 * sysv_shm <workdir>: a parent and its forked child sharing SysV shared memory segments, as PostgreSQL does.
 *
 * - Segment A: IPC_PRIVATE, 10000 bytes (not a page multiple), mode 0640, attached read-write by both, then marked
 *   for removal (IPC_RMID): it dies with the tree, so a restore must create it again with the same id and contents.
 *   Page 0 is the mailbox (parent asks, child answers), page 1 the parent's pattern, page 2 (1808 bytes) the child's.
 * - Segment B: key 0x4352xxxx (from the pid), 8192 bytes, mode 0604: the parent attaches it read-write and fills it,
 *   then a second time read-only and mprotects that view to PROT_NONE; the child attaches it SHM_RDONLY.
 *
 * On SIGUSR2 the parent checks: both segments' IPC_STAT (id, size, mode, SHM_DEST, nattch, owner), that
 * shmget(key B) finds the same id, both patterns, the child's page, the protection of each of its three attachments
 * (/proc/self/maps), and asks the child (through the mailbox) to check the same from its side. Prints
 * `READY pid=<pid> child=<pid> a=<id> b=<id> key=<hex>`, `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>

#define PAGE 4096ul
#define A_SIZE 10000ul
#define B_SIZE 8192ul

struct mailbox {
    uint64_t request;
    uint64_t answered;
    uint64_t child_ok;
    char child_failure[400];
};

static unsigned char a_byte(size_t i) { return (unsigned char) (0x21 + i % 197); }
static unsigned char c_byte(size_t i) { return (unsigned char) (0x5a ^ (i % 199)); }
static unsigned char b_byte(size_t i) { return (unsigned char) (0x33 + i % 211); }

static long differs(const unsigned char *p, size_t n, unsigned char (*byte_of)(size_t)) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] != byte_of(i)) return (long) i;
    }
    return -1;
}

/* @return the permission column ("rw-s") of the mapping starting at addr, or "none" */
static const char *perms_at(const void *addr, char out[8]) {
    FILE *f = fopen("/proc/self/maps", "r");
    strcpy(out, "none");
    if (!f) return out;
    char line[512];
    unsigned long start;
    char perms[8];
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lx-%*x %7s", &start, perms) == 2 && start == (unsigned long) addr) {
            strcpy(out, perms);
            break;
        }
    }
    fclose(f);
    return out;
}

static void check_perms(struct verdict *v, const char *who, const void *addr, const char *want) {
    char got[8];
    perms_at(addr, got);
    if (strcmp(got, want) != 0) fail(v, "%s attachment at %p is %s, expected %s", who, addr, got, want);
}

static void check_stat(struct verdict *v, int id, size_t size, int mode, int dest, unsigned long nattch) {
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) != 0) {
        fail(v, "shmctl(%d, IPC_STAT): %s", id, strerror(errno));
        return;
    }
    if (ds.shm_segsz != size) fail(v, "segment %d has %zu bytes, expected %zu", id, (size_t) ds.shm_segsz, size);
    if ((ds.shm_perm.mode & 0777) != mode) fail(v, "segment %d mode 0%o, expected 0%o", id, ds.shm_perm.mode & 0777, mode);
    if (!!(ds.shm_perm.mode & SHM_DEST) != dest) fail(v, "segment %d SHM_DEST is %d, expected %d", id,
                                                     !!(ds.shm_perm.mode & SHM_DEST), dest);
    if (ds.shm_nattch != nattch) fail(v, "segment %d has %lu attachments, expected %lu", id,
                                      (unsigned long) ds.shm_nattch, nattch);
    if (ds.shm_perm.uid != getuid()) fail(v, "segment %d owned by %d", id, (int) ds.shm_perm.uid);
}

static void child_loop(unsigned char *a, const unsigned char *b, pid_t parent) {
    volatile struct mailbox *mb = (volatile struct mailbox *) a;
    for (size_t i = 0; i < A_SIZE - 2 * PAGE; i++) a[2 * PAGE + i] = c_byte(i);
    __atomic_store_n(&mb->answered, 0, __ATOMIC_RELEASE);
    for (;;) {
        uint64_t req = await_request(&mb->request, &mb->answered, parent);
        struct verdict v = {0};
        long bad = differs(a + PAGE, PAGE, a_byte);
        if (bad >= 0) fail(&v, "child sees A's page 1 changed at %ld", bad);
        bad = differs(b, B_SIZE, b_byte);
        if (bad >= 0) fail(&v, "child sees B changed at %ld", bad);
        check_perms(&v, "child's A", a, "rw-s");
        check_perms(&v, "child's read-only B", b, "r--s");
        snprintf((char *) mb->child_failure, sizeof mb->child_failure, "%.399s", v.failures);
        mb->child_ok = v.len == 0;
        __atomic_store_n(&mb->answered, req, __ATOMIC_RELEASE);
    }
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    key_t key = (key_t) (0x43520000 | (getpid() & 0xffff));
    int ida = shmget(IPC_PRIVATE, A_SIZE, IPC_CREAT | 0640);
    if (ida < 0) die("shmget(A)");
    int idb = shmget(key, B_SIZE, IPC_CREAT | IPC_EXCL | 0604);
    if (idb < 0) die("shmget(B)");
    unsigned char *a = shmat(ida, NULL, 0);
    unsigned char *b = shmat(idb, NULL, 0);
    const unsigned char *b_none = shmat(idb, NULL, SHM_RDONLY);
    if (a == (void *) -1 || b == (void *) -1 || b_none == (void *) -1) die("shmat");
    if (mprotect((void *) b_none, B_SIZE, PROT_NONE) != 0) die("mprotect(B, PROT_NONE)");
    for (size_t i = 0; i < PAGE; i++) a[PAGE + i] = a_byte(i);
    for (size_t i = 0; i < B_SIZE; i++) b[i] = b_byte(i);
    volatile struct mailbox *mb = (volatile struct mailbox *) a;
    mb->answered = ~0ull;

    pid_t parent = real_getpid();
    pid_t child = fork_or_die("fork");
    if (child == 0) {
        /* the child keeps A (inherited) and sees B read-only only */
        if (shmdt(b) != 0 || shmdt(b_none) != 0) die("shmdt in child");
        const unsigned char *rb = shmat(idb, b, SHM_RDONLY);
        if (rb != b) die("shmat(B, SHM_RDONLY) in child");
        child_loop(a, rb, parent);
    }
    install(SIGUSR2, on_verify_signal);
    wait_child_set_up(&mb->answered, 5000000000ull);
    if (shmctl(ida, IPC_RMID, NULL) != 0) die("shmctl(A, IPC_RMID)");
    say("READY pid=%d child=%d a=%d b=%d key=%x", (int) parent, (int) child, ida, idb, (unsigned) key);

    unsigned long counter = 0;
    uint64_t request = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        check_child_alive(&v, child);
        check_stat(&v, ida, A_SIZE, 0640, 1, 2);
        check_stat(&v, idb, B_SIZE, 0604, 0, 3);
        int found = shmget(key, 0, 0);
        if (found != idb) fail(&v, "shmget(key %x) = %d, expected %d", (unsigned) key, found, idb);
        long bad = differs(a + PAGE, PAGE, a_byte);
        if (bad >= 0) fail(&v, "A's page 1 changed at %ld", bad);
        bad = differs(a + 2 * PAGE, A_SIZE - 2 * PAGE, c_byte);
        if (bad >= 0) fail(&v, "parent does not see the child's part of A (byte %ld)", bad);
        bad = differs(b, B_SIZE, b_byte);
        if (bad >= 0) fail(&v, "B changed at %ld", bad);
        check_perms(&v, "A", a, "rw-s");
        check_perms(&v, "B", b, "rw-s");
        check_perms(&v, "PROT_NONE view of B", b_none, "---s");

        request++;
        if (!ask_child(&mb->request, &mb->answered, request)) {
            fail(&v, "child did not answer request %llu", (unsigned long long) request);
        } else if (!mb->child_ok) {
            fail(&v, "%s", (const char *) mb->child_failure);
        }
        /* a write the child must see through the same segment next time: B changes and changes back */
        b[0] ^= 0xff;
        b[0] ^= 0xff;
        char detail[160];
        snprintf(detail, sizeof detail, "pid=%d child=%d a=%d b=%d counter=%lu request=%llu", (int) parent,
                 (int) child, ida, idb, counter, (unsigned long long) request);
        report(&v, detail);
    }
}
