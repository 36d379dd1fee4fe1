/*
 * memory_flags <workdir>: private anonymous memory carrying each per-mapping flag smaps shows as VmFlags, every
 * page holding data.
 *
 * One read-write area of 4-page chunks: gap0 reg0 gap1 reg1 ... regN-1 gapN (between two PROT_NONE chunks). Each region gets one flag:
 *   dc MADV_DONTFORK, dd MADV_DONTDUMP, wf MADV_WIPEONFORK, hg MADV_HUGEPAGE, nh MADV_NOHUGEPAGE,
 *   mg MADV_MERGEABLE, sr MADV_SEQUENTIAL, rr MADV_RANDOM, lo mlock, lf mlock2(MLOCK_ONFAULT), sl mseal (last);
 * the gaps get none (the reverse check: a neighbour's flag must not spread to them). Plus one MAP_DROPPABLE
 * mapping (dp, which the kernel shows with wf dd nr).
 *
 * On SIGUSR2 verifies, from /proc/self/smaps: every region and gap is still one mapping of its own extent whose
 * VmFlags equal those it had after setup (sd ignored) and include its flag; the gaps have none of the flags
 * above; the mlocked regions are Locked; the data of every page (the droppable mapping: each page its pattern or
 * zeros, the kernel may drop it); a counter cell that each verify advances (the restored memory is the dumped
 * memory); and the behaviour: a forked child does not see the DONTFORK region, reads zeros in the WIPEONFORK and
 * droppable ones and the data elsewhere; mprotect of the sealed region fails with EPERM.
 * Prints `READY pid=<pid> area=0x.. droppable=0x..`, `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <sys/mman.h>
#include <sys/wait.h>

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef SYS_mseal
#define SYS_mseal 462
#endif

#define PAGE 4096ul
#define CHUNK_PAGES 4
#define CHUNK (CHUNK_PAGES * PAGE)

static const char *const FLAGS[] = {"dc", "dd", "wf", "hg", "nh", "mg", "sr", "rr", "lo", "lf", "sl"};
#define NREG ((int) (sizeof FLAGS / sizeof FLAGS[0]))
#define NCHUNK (2 * NREG + 1)
/* the flags no gap may carry */
static const char *const WATCHED[] = {"dc", "dd", "wf", "hg", "nh", "mg", "sr", "rr", "lo", "lf", "sl", "dp", "gu",
                                      "nr"};

static unsigned char *area;
static unsigned char *droppable;
static char setup_flags[NCHUNK + 1][256]; /* chunk i; the last is the droppable mapping */

/* area[0] is the first gap; one PROT_NONE chunk on each side keeps the outer gaps from merging with neighbours */
static unsigned char *chunk_at(int i) { return area + (size_t) i * CHUNK; }
static unsigned char byte_of(int chunk, size_t i) { return (unsigned char) (1 + (chunk * 31 + i * 7 + i / PAGE) % 253); }

/* The smaps entry starting exactly at `start`: its end, VmFlags (sd removed) and Locked kB; 0 when none starts there. */
static int smaps_entry(void *start, unsigned long *end, char *flags, size_t flags_len, long *locked_kb) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return 0;
    char line[512];
    int in = 0, found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long s, e;
        char c;
        if (sscanf(line, "%lx-%lx %c", &s, &e, &c) == 3 && strchr(line, '-') < strchr(line, ' ')) {
            if (in) break;
            in = s == (unsigned long) start;
            if (in) {
                *end = e;
                found = 1;
                *locked_kb = -1;
            }
        } else if (in && strncmp(line, "Locked:", 7) == 0) {
            *locked_kb = atol(line + 7);
        } else if (in && strncmp(line, "VmFlags:", 8) == 0) {
            flags[0] = 0;
            char *save, *tok = strtok_r(line + 8, " \n", &save);
            for (; tok; tok = strtok_r(NULL, " \n", &save)) {
                if (strcmp(tok, "sd") == 0) continue;
                strncat(flags, tok, flags_len - strlen(flags) - 2);
                strcat(flags, " ");
            }
        }
    }
    fclose(f);
    return found;
}

static int has_flag(const char *flags, const char *flag) {
    char want[8];
    snprintf(want, sizeof want, "%s ", flag);
    for (const char *p = flags; (p = strstr(p, want)) != NULL; p++) {
        if (p == flags || p[-1] == ' ') return 1;
    }
    return 0;
}

/* Checks the mapping at `start` of `len` bytes: extent, flags as after setup (or records them), `must` present. */
static void check_mapping(struct verdict *v, const char *what, void *start, size_t len, char *recorded,
                          const char *must, int is_gap, int record) {
    unsigned long end;
    long locked;
    char flags[256];
    if (!smaps_entry(start, &end, flags, sizeof flags, &locked)) {
        fail(v, "%s %p: no mapping starts there", what, start);
        return;
    }
    if (end != (unsigned long) start + len) fail(v, "%s %p: mapping ends at %lx, not %lx", what, start, end,
                                                 (unsigned long) start + len);
    if (must && !has_flag(flags, must)) fail(v, "%s %p: flag %s missing (VmFlags: %s)", what, start, must, flags);
    if (is_gap) {
        for (size_t i = 0; i < sizeof WATCHED / sizeof WATCHED[0]; i++) {
            if (has_flag(flags, WATCHED[i])) fail(v, "%s %p gained flag %s (VmFlags: %s)", what, start, WATCHED[i], flags);
        }
    }
    if (must && (strcmp(must, "lo") == 0 || strcmp(must, "lf") == 0) && locked != (long) (len / 1024)) {
        fail(v, "%s %p: Locked %ld kB, expected %zu", what, start, locked, len / 1024);
    }
    if (record) {
        snprintf(recorded, 256, "%s", flags);
    } else if (strcmp(recorded, flags) != 0) {
        fail(v, "%s %p: VmFlags '%s', at setup '%s'", what, start, flags, recorded);
    }
}

static void check_all(struct verdict *v, int record) {
    for (int c = 0; c < NCHUNK; c++) {
        char what[32];
        int is_gap = c % 2 == 0;
        const char *must = is_gap ? NULL : FLAGS[c / 2];
        if (is_gap) snprintf(what, sizeof what, "gap%d", c / 2);
        else snprintf(what, sizeof what, "region %s", must);
        check_mapping(v, what, chunk_at(c), CHUNK, setup_flags[c], must, is_gap, record);
    }
    check_mapping(v, "droppable", droppable, CHUNK, setup_flags[NCHUNK], "dp", 0, record);
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");

    unsigned char *all = mmap(NULL, (NCHUNK + 2) * CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (all == MAP_FAILED) die("mmap(area)");
    if (mprotect(all, CHUNK, PROT_NONE) != 0 || mprotect(all + (NCHUNK + 1) * CHUNK, CHUNK, PROT_NONE) != 0) {
        die("mprotect(borders)");
    }
    area = all + CHUNK;
    for (int c = 0; c < NCHUNK; c++) {
        for (size_t i = 0; i < CHUNK; i++) chunk_at(c)[i] = byte_of(c, i);
    }
    droppable = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
    if (droppable == MAP_FAILED) die("mmap(MAP_DROPPABLE)");
    for (size_t i = 0; i < CHUNK; i++) droppable[i] = byte_of(NCHUNK, i);

    static const int ADVICE[] = {MADV_DONTFORK, MADV_DONTDUMP, MADV_WIPEONFORK, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
                                 MADV_MERGEABLE, MADV_SEQUENTIAL, MADV_RANDOM};
    for (int r = 0; r < NREG; r++) {
        unsigned char *p = chunk_at(2 * r + 1);
        const char *f = FLAGS[r];
        int rc;
        if (r < (int) (sizeof ADVICE / sizeof ADVICE[0])) rc = madvise(p, CHUNK, ADVICE[r]);
        else if (strcmp(f, "lo") == 0) rc = mlock(p, CHUNK);
        else if (strcmp(f, "lf") == 0) rc = (int) syscall(SYS_mlock2, p, CHUNK, MLOCK_ONFAULT);
        else rc = (int) syscall(SYS_mseal, p, CHUNK, 0);
        if (rc != 0) {
            char what[64];
            snprintf(what, sizeof what, "setting %s on region %p", f, p);
            die(what);
        }
    }
    struct verdict setup = {0};
    check_all(&setup, 1);
    exit_if_setup_failed(&setup);

    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d area=%p droppable=%p", (int) real_getpid(), area, droppable);

    /* the counter cell: gap0's first bytes (a gap page whose pattern is not checked) */
    volatile uint64_t *cell = (volatile uint64_t *) chunk_at(0);
    *cell = 1;
    unsigned long counter = 0, verifies = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};

        check_all(&v, 0);
        for (int c = 0; c < NCHUNK; c++) {
            for (size_t i = c == 0 ? PAGE : 0; i < CHUNK; i++) {
                if (chunk_at(c)[i] != byte_of(c, i)) {
                    fail(&v, "chunk %d (%s) byte %zu is %u, expected %u", c, c % 2 ? FLAGS[c / 2] : "gap", i,
                         chunk_at(c)[i], byte_of(c, i));
                    break;
                }
            }
        }
        for (size_t page = 0; page < CHUNK_PAGES; page++) {
            int zero = 1, pattern = 1;
            for (size_t i = page * PAGE; i < (page + 1) * PAGE; i++) {
                zero &= droppable[i] == 0;
                pattern &= droppable[i] == byte_of(NCHUNK, i);
            }
            if (!zero && !pattern) fail(&v, "droppable page %zu is neither its data nor dropped", page);
        }
        if (*cell != verifies + 1) fail(&v, "counter cell %lu, expected %lu", (unsigned long) *cell, verifies + 1);
        verifies++;
        *cell = verifies + 1;

        unsigned char *sealed = chunk_at(2 * (NREG - 1) + 1);
        if (mprotect(sealed, CHUNK, PROT_READ) == 0) fail(&v, "mprotect of the sealed region succeeded");
        else if (errno != EPERM) fail(&v, "mprotect of the sealed region: %s, expected EPERM", strerror(errno));

        pid_t child = fork();
        if (child < 0) {
            fail(&v, "fork: %s", strerror(errno));
        } else if (child == 0) {
            /* bit 1: DONTFORK region mapped; 2: WIPEONFORK data not wiped; 4: droppable not wiped; 8: gap data lost */
            int bad = 0;
            unsigned char vec;
            if (mincore(chunk_at(1), PAGE, &vec) == 0 || errno != ENOMEM) bad |= 1;
            for (size_t i = 0; i < CHUNK; i++) {
                if (chunk_at(5)[i] != 0) bad |= 2;
                if (droppable[i] != 0) bad |= 4;
                if (chunk_at(2)[i] != byte_of(2, i)) bad |= 8;
            }
            _exit(bad);
        } else {
            int st;
            while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
            }
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                int bad = WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
                fail(&v, "forked child: %s%s%s%s(status %d)", bad & 1 ? "DONTFORK region inherited; " : "",
                     bad & 2 ? "WIPEONFORK region not wiped; " : "", bad & 4 ? "droppable region not wiped; " : "",
                     bad & 8 ? "plain memory lost; " : "", bad);
            }
        }
        char detail[160];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu verifies=%lu regions=%d", (int) real_getpid(), counter,
                 verifies, NREG);
        report(&v, detail);
    }
}
