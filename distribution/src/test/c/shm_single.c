/*
 * shm_single <workdir> [protnone]: one process holding shared memory in the shapes the memory plugin handles.
 *
 * - anon: 64 pages MAP_SHARED|MAP_ANONYMOUS; pages 0-15, 40 and 63 hold a pattern, the rest were never touched.
 * - a memfd "app-shm" of 32 pages mapped MAP_SHARED twice (view1: all 32 pages; view2: pages 16-31, read-write),
 *   every page written through view1; the fd is closed after mapping (only the mappings hold the memfd).
 * - with `protnone`: 4 private anonymous pages written, then mprotect'ed PROT_NONE.
 *
 * On SIGUSR2 verifies: the patterns; that view2 shows what is written through view1 (one object, not two copies);
 * that a forked child's write into anon is seen by the parent (still MAP_SHARED, not a private copy); the counter
 * cells written at the previous verify (so the restored memory is the dumped memory); the PROT_NONE pages (made
 * readable for the check, then PROT_NONE again). Prints `READY pid=<pid> anon=0x.. view1=0x.. view2=0x..
 * [protnone=0x..]`, `tick N` lines, and `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <sys/mman.h>
#include <sys/wait.h>

#define PAGE 4096ul
#define ANON_PAGES 64
#define MEMFD_PAGES 32
#define VIEW2_FIRST 16
#define PROTNONE_PAGES 4
/* cells mutated at each verify: anon page 20 (never patterned), memfd page 31 at offset 2048 */
#define ANON_CELL_PAGE 20
#define MEMFD_CELL (31 * PAGE + 2048)

static unsigned char anon_byte(size_t i) { return (unsigned char) (1 + (i * 13 + i / PAGE) % 251); }
static unsigned char memfd_byte(size_t i) { return (unsigned char) (0x40 ^ (i * 7 + i / PAGE * 5)); }
static unsigned char protnone_byte(size_t i) { return (unsigned char) (0xa5 ^ (i % 253)); }

static int anon_patterned(size_t page) { return page < 16 || page == 40 || page == 63; }

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "protnone") != 0)) {
        fprintf(stderr, "usage: %s <workdir> [protnone]\n", argv[0]);
        return 2;
    }
    int with_protnone = argc == 3;
    if (chdir(argv[1]) != 0) die("chdir(workdir)");

    unsigned char *anon = mmap(NULL, ANON_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (anon == MAP_FAILED) die("mmap(anon shared)");
    for (size_t i = 0; i < ANON_PAGES * PAGE; i++) {
        if (anon_patterned(i / PAGE)) anon[i] = anon_byte(i);
    }

    int mfd = memfd_create("app-shm", MFD_CLOEXEC);
    if (mfd < 0) die("memfd_create");
    if (ftruncate(mfd, MEMFD_PAGES * PAGE) != 0) die("ftruncate(memfd)");
    unsigned char *view1 = mmap(NULL, MEMFD_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    if (view1 == MAP_FAILED) die("mmap(view1)");
    unsigned char *view2 = mmap(NULL, (MEMFD_PAGES - VIEW2_FIRST) * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd,
                                VIEW2_FIRST * PAGE);
    if (view2 == MAP_FAILED) die("mmap(view2)");
    close(mfd);
    for (size_t i = 0; i < MEMFD_PAGES * PAGE; i++) view1[i] = memfd_byte(i);
    *(volatile uint64_t *) (anon + ANON_CELL_PAGE * PAGE) = 1;
    *(volatile uint64_t *) (view1 + MEMFD_CELL) = 2;

    unsigned char *protnone = NULL;
    if (with_protnone) {
        protnone = mmap(NULL, PROTNONE_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (protnone == MAP_FAILED) die("mmap(protnone)");
        for (size_t i = 0; i < PROTNONE_PAGES * PAGE; i++) protnone[i] = protnone_byte(i);
        if (mprotect(protnone, PROTNONE_PAGES * PAGE, PROT_NONE) != 0) die("mprotect(PROT_NONE)");
    }

    install(SIGUSR2, on_verify_signal);
    if (with_protnone) {
        say("READY pid=%d anon=%p view1=%p view2=%p protnone=%p", (int) real_getpid(), anon, view1, view2, protnone);
    } else {
        say("READY pid=%d anon=%p view1=%p view2=%p", (int) real_getpid(), anon, view1, view2);
    }

    unsigned long counter = 0, verifies = 0;
    volatile uint64_t *anon_cell = (volatile uint64_t *) (anon + ANON_CELL_PAGE * PAGE);
    volatile uint64_t *memfd_cell = (volatile uint64_t *) (view1 + MEMFD_CELL);
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};

        for (size_t i = 0; i < ANON_PAGES * PAGE; i++) {
            size_t page = i / PAGE;
            if (page == ANON_CELL_PAGE) continue;
            unsigned char want = anon_patterned(page) ? anon_byte(i) : 0;
            if (anon[i] != want) {
                fail(&v, "anon byte %zu is %u, expected %u", i, anon[i], want);
                break;
            }
        }
        for (size_t i = 0; i < MEMFD_PAGES * PAGE; i++) {
            if (i >= MEMFD_CELL && i < MEMFD_CELL + 16) continue;
            if (view1[i] != memfd_byte(i)) {
                fail(&v, "memfd byte %zu is %u, expected %u", i, view1[i], memfd_byte(i));
                break;
            }
        }
        /* the cells hold what the previous verify wrote: the restored memory is the dumped memory */
        if (anon_cell[0] != verifies * 3 + 1) fail(&v, "anon cell %lu, expected %lu", (unsigned long) anon_cell[0],
                                                   verifies * 3 + 1);
        if (memfd_cell[0] != verifies * 5 + 2) fail(&v, "memfd cell %lu, expected %lu",
                                                    (unsigned long) memfd_cell[0], verifies * 5 + 2);
        verifies++;
        /* one object: a write through view1 shows in view2 */
        memfd_cell[0] = verifies * 5 + 2;
        if (*(volatile uint64_t *) (view2 + MEMFD_CELL - VIEW2_FIRST * PAGE) != verifies * 5 + 2) {
            fail(&v, "view2 does not show view1's write: the two memfd mappings are not one object");
        }
        view2[0] ^= 0xff;
        if (view1[VIEW2_FIRST * PAGE] != (unsigned char) (memfd_byte(VIEW2_FIRST * PAGE) ^ 0xff)) {
            fail(&v, "view1 does not show view2's write");
        }
        view2[0] ^= 0xff;
        /* still MAP_SHARED: a child's write reaches the parent */
        pid_t child = fork();
        if (child < 0) {
            fail(&v, "fork: %s", strerror(errno));
        } else if (child == 0) {
            anon_cell[0] = verifies * 3 + 1;
            _exit(0);
        } else {
            int st;
            while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
            }
            if (anon_cell[0] != verifies * 3 + 1) fail(&v, "the child's write into anon is not seen: not shared");
        }
        if (with_protnone) {
            if (mprotect(protnone, PROTNONE_PAGES * PAGE, PROT_READ) != 0) {
                fail(&v, "mprotect(PROT_READ): %s", strerror(errno));
            } else {
                for (size_t i = 0; i < PROTNONE_PAGES * PAGE; i++) {
                    if (protnone[i] != protnone_byte(i)) {
                        fail(&v, "protnone byte %zu is %u", i, protnone[i]);
                        break;
                    }
                }
                mprotect(protnone, PROTNONE_PAGES * PAGE, PROT_NONE);
            }
        }
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu verifies=%lu", (int) real_getpid(), counter, verifies);
        report(&v, detail);
    }
}
