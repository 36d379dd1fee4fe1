/*
 * memfd_fd <workdir>: memfds held as fds, one of them also mapped.
 *
 * - "app-buf": MFD_CLOEXEC | MFD_ALLOW_SEALING, 8 pages + 123 bytes, pages 0-4 and the tail patterned (5-7 zero),
 *   fd offset 777, mapped MAP_SHARED read-write at pages 1-3, sealed F_SEAL_SHRINK | F_SEAL_GROW.
 * - "plain": no flags (no FD_CLOEXEC, no sealing: F_GET_SEALS is F_SEAL_SEAL), 100 bytes, mode 0640 (fchmod), and a
 *   second open file description through /proc/self/fd, O_RDONLY, offset 5.
 *
 * On SIGUSR2 checks: names (the /proc link), sizes, modes, offsets, FD_CLOEXEC, access modes, seals (and that they
 * act: growing app-buf fails with EPERM), the content through the fds and through the mapping, that a write through
 * the fd is seen in the mapping and one through the mapping is read through the fd, that the mapping and the fd are
 * one inode, and that the two fds of "plain" are one inode with separate offsets. Cells written at each verify are
 * checked at the next one. Prints `READY pid=<pid> buf=<fd> map=0x.. plain=<fd> plain_ro=<fd>`, ticks, verdicts.
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PAGE 4096ul
#define BUF_SIZE (8 * PAGE + 123)
#define PLAIN_SIZE 100
#define CELL (2 * PAGE + 64) /* in the mapped range (pages 1-3) */

static unsigned char buf_byte(size_t i) { return (unsigned char) (0x3c ^ (i * 17 + i / PAGE)); }
/* pages 0-4 (but the cells) and the tail */
static int buf_patterned(size_t i) { return (i < 5 * PAGE && (i < CELL || i >= CELL + 16)) || i >= 8 * PAGE; }

static void check_fd(struct verdict *v, int fd, const char *name, size_t size, mode_t mode, off_t pos, int cloexec,
                     int accmode, int seals) {
    char link[64], target[256];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) { fail(v, "readlink %s: %s", link, strerror(errno)); return; }
    target[n] = 0;
    char want[128];
    snprintf(want, sizeof want, "/memfd:%s (deleted)", name);
    if (strcmp(target, want) != 0) fail(v, "fd %d links to '%s', expected '%s'", fd, target, want);
    struct stat st;
    if (fstat(fd, &st) != 0) { fail(v, "fstat %d: %s", fd, strerror(errno)); return; }
    if (st.st_size != (off_t) size) fail(v, "fd %d size %lld, expected %zu", fd, (long long) st.st_size, size);
    if ((st.st_mode & 07777) != mode) fail(v, "fd %d mode 0%o, expected 0%o", fd, st.st_mode & 07777, mode);
    off_t at = lseek(fd, 0, SEEK_CUR);
    if (at != pos) fail(v, "fd %d offset %lld, expected %lld", fd, (long long) at, (long long) pos);
    int fdfl = fcntl(fd, F_GETFD);
    if (((fdfl & FD_CLOEXEC) != 0) != cloexec) fail(v, "fd %d FD_CLOEXEC %d, expected %d", fd, fdfl & FD_CLOEXEC, cloexec);
    int fl = fcntl(fd, F_GETFL);
    if ((fl & O_ACCMODE) != accmode) fail(v, "fd %d access mode %d, expected %d", fd, fl & O_ACCMODE, accmode);
    int s = fcntl(fd, F_GET_SEALS);
    if (s != seals) fail(v, "fd %d seals 0x%x, expected 0x%x", fd, s, seals);
}

static unsigned long maps_inode(void *addr) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 0;
    char line[512];
    unsigned long ino = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long start;
        if (sscanf(line, "%lx-", &start) == 1 && start == (unsigned long) addr) {
            sscanf(line, "%*x-%*x %*s %*x %*s %lu", &ino);
            break;
        }
    }
    fclose(f);
    return ino;
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    int buf = memfd_create("app-buf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (buf < 0) die("memfd_create(app-buf)");
    if (ftruncate(buf, BUF_SIZE) != 0) die("ftruncate(app-buf)");
    for (size_t i = 0; i < BUF_SIZE; i++) {
        if (!buf_patterned(i)) continue;
        unsigned char b = buf_byte(i);
        if (pwrite(buf, &b, 1, (off_t) i) != 1) die("pwrite(app-buf)");
    }
    unsigned char *map = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, PAGE);
    if (map == MAP_FAILED) die("mmap(app-buf)");
    if (fcntl(buf, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) die("F_ADD_SEALS");
    if (lseek(buf, 777, SEEK_SET) != 777) die("lseek(app-buf)");

    int plain = memfd_create("plain", 0);
    if (plain < 0) die("memfd_create(plain)");
    char text[PLAIN_SIZE];
    for (int i = 0; i < PLAIN_SIZE; i++) text[i] = (char) ('a' + i % 26);
    if (write(plain, text, PLAIN_SIZE) != PLAIN_SIZE) die("write(plain)");
    if (fchmod(plain, 0640) != 0) die("fchmod(plain)");
    char self_fd[64];
    snprintf(self_fd, sizeof self_fd, "/proc/self/fd/%d", plain);
    int plain_ro = open(self_fd, O_RDONLY);
    if (plain_ro < 0) die("open(/proc/self/fd/plain)");
    if (lseek(plain_ro, 5, SEEK_SET) != 5) die("lseek(plain_ro)");

    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d buf=%d map=%p plain=%d plain_ro=%d", (int) real_getpid(), buf, map, plain, plain_ro);
    uint64_t round = 0;
    unsigned long counter = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        check_fd(&v, buf, "app-buf", BUF_SIZE, 0777, 777, 1, O_RDWR, F_SEAL_SHRINK | F_SEAL_GROW);
        check_fd(&v, plain, "plain", PLAIN_SIZE, 0640, PLAIN_SIZE, 0, O_RDWR, F_SEAL_SEAL);
        check_fd(&v, plain_ro, "plain", PLAIN_SIZE, 0640, 5, 0, O_RDONLY, F_SEAL_SEAL);
        if (ftruncate(buf, BUF_SIZE + PAGE) == 0 || errno != EPERM) fail(&v, "app-buf grew despite F_SEAL_GROW");
        if (fcntl(plain, F_ADD_SEALS, F_SEAL_WRITE) == 0 || errno != EPERM) fail(&v, "plain accepted a seal");
        struct stat a, b;
        if (fstat(buf, &a) == 0 && maps_inode(map) != (unsigned long) a.st_ino) {
            fail(&v, "the mapping (inode %lu) is not of the fd's memfd (inode %lu)", maps_inode(map),
                 (unsigned long) a.st_ino);
        }
        if (fstat(plain, &a) == 0 && fstat(plain_ro, &b) == 0 && a.st_ino != b.st_ino) fail(&v, "plain fds differ");
        static unsigned char all[BUF_SIZE];
        if (pread(buf, all, BUF_SIZE, 0) != (ssize_t) BUF_SIZE) fail(&v, "pread(app-buf)");
        for (size_t i = 0; i < BUF_SIZE; i++) {
            if (i >= CELL && i < CELL + 16) continue;
            unsigned char want = buf_patterned(i) ? buf_byte(i) : 0;
            if (all[i] != want) { fail(&v, "app-buf byte %zu is %u, expected %u", i, all[i], want); break; }
            if (i >= PAGE && i < 4 * PAGE && map[i - PAGE] != want) {
                fail(&v, "mapping byte %zu is %u, expected %u", i - PAGE, map[i - PAGE], want);
                break;
            }
        }
        char got[PLAIN_SIZE];
        if (pread(plain_ro, got, PLAIN_SIZE, 0) != PLAIN_SIZE || memcmp(got, text, PLAIN_SIZE) != 0) {
            fail(&v, "plain's content changed");
        }
        uint64_t cells[2];
        if (pread(buf, cells, 16, CELL) != 16 || cells[0] != round * 3 || cells[1] != round * 5) {
            fail(&v, "cells %llu %llu, expected %llu %llu", (unsigned long long) cells[0],
                 (unsigned long long) cells[1], (unsigned long long) round * 3, (unsigned long long) round * 5);
        }
        round++;
        uint64_t val = round * 3;
        if (pwrite(buf, &val, 8, CELL) != 8) fail(&v, "pwrite(cell)");
        volatile uint64_t *mcell = (volatile uint64_t *) (map + CELL - PAGE);
        if (mcell[0] != val) fail(&v, "the mapping shows %llu after writing %llu through the fd",
                                  (unsigned long long) mcell[0], (unsigned long long) val);
        mcell[1] = round * 5;
        uint64_t back = 0;
        if (pread(buf, &back, 8, CELL + 8) != 8 || back != round * 5) {
            fail(&v, "the fd reads %llu after writing %llu through the mapping", (unsigned long long) back,
                 (unsigned long long) round * 5);
        }
        char detail[64];
        snprintf(detail, sizeof detail, "round=%llu", (unsigned long long) round);
        report(&v, detail);
    }
}
