/*
 * ghost_file <workdir> [big]: a parent and its forked child holding an unlinked file (a "ghost").
 *
 * The parent creates ghost.dat (5 pages + 100 bytes, mode 0640): pages 0-2 and the 100-byte tail hold a pattern,
 * page 3 is the mailbox (cells written at each verify), page 4 is a hole. It holds the file through two open file
 * descriptions — fd_rw (O_RDWR, offset 1234) and fd_ro (O_RDONLY, offset 77) — and one MAP_SHARED mapping of the
 * whole file, then unlinks it and forks a child that inherits all three.
 *
 * On SIGUSR2 the parent checks: st_nlink 0, size, mode, both fds on one inode, the /proc link says (deleted),
 * offsets and access modes, the content through fd_ro and through the mapping; that a write through fd_rw is seen in
 * the mapping and one through the mapping is read through fd_ro; and it posts a request in the mailbox, which the
 * child reads through its mapping and answers through its fd (pwrite), so the parent sees the child's write —
 * after a restore the two processes still share one file. Prints `READY pid=<pid> child=<pid> map=0x..`,
 * `tick N`, `VERDICT PASS|FAIL`.
 *
 * With `big`: only fd_rw on a 3 MiB patterned ghost (over the default ghost-limit of 1 MiB); the verify checks the
 * content and the offset.
 */
#include "workload.h"

#include <fcntl.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PAGE 4096ul
#define SMALL_SIZE (5 * PAGE + 100)
#define MAP_LEN (6 * PAGE)
#define BIG_SIZE (3ul << 20)
#define MB_OFF (3 * PAGE)

struct mailbox {
    uint64_t request;    /* parent, through the mapping */
    uint64_t answered;   /* child, through its fd */
    uint64_t answer;
    uint64_t child_ok;
    uint64_t fd_cell;    /* parent writes through fd_rw, reads through the mapping */
    uint64_t map_cell;   /* parent writes through the mapping, reads through fd_ro */
};

static unsigned char byte_at(size_t i) { return (unsigned char) (0x5a ^ (i * 31 + i / PAGE)); }
static int patterned(size_t i, size_t size) {
    if (size == BIG_SIZE) return 1;
    return i < 3 * PAGE || (i >= 5 * PAGE && i < size);
}
static uint64_t answer_for(uint64_t req) { return req * 7919ull + 5; }

static void child_loop(volatile struct mailbox *mb, int fd, pid_t parent) {
    for (;;) {
        uint64_t req = await_request(&mb->request, &mb->answered, parent);
        struct stat st;
        uint64_t ok = fstat(fd, &st) == 0 && st.st_nlink == 0 && st.st_size == (off_t) SMALL_SIZE;
        uint64_t vals[3] = {req, answer_for(req), ok};
        /* answered last, so the parent never sees a request answered without its answer */
        if (pwrite(fd, &vals[1], 16, MB_OFF + offsetof(struct mailbox, answer)) != 16) _exit(3);
        if (pwrite(fd, &vals[0], 8, MB_OFF + offsetof(struct mailbox, answered)) != 8) _exit(3);
    }
}

static void check_content_fd(struct verdict *v, int fd, size_t size) {
    static unsigned char buf[BIG_SIZE];
    ssize_t n = pread(fd, buf, size, 0);
    if (n != (ssize_t) size) { fail(v, "pread of the whole file gave %zd of %zu bytes", n, size); return; }
    for (size_t i = 0; i < size; i++) {
        if (size != BIG_SIZE && i >= MB_OFF && i < MB_OFF + PAGE) continue;
        unsigned char want = patterned(i, size) ? byte_at(i) : 0;
        if (buf[i] != want) { fail(v, "byte %zu read through the fd is %u, expected %u", i, buf[i], want); return; }
    }
}

static void check_common(struct verdict *v, int fd, size_t size, mode_t mode, off_t pos, int accmode, const char *name) {
    struct stat st;
    if (fstat(fd, &st) != 0) { fail(v, "fstat(%s): %s", name, strerror(errno)); return; }
    if (st.st_nlink != 0) fail(v, "%s st_nlink=%lu, expected 0 (still unlinked)", name, (unsigned long) st.st_nlink);
    if (st.st_size != (off_t) size) fail(v, "%s size %lld, expected %zu", name, (long long) st.st_size, size);
    if ((st.st_mode & 07777) != mode) fail(v, "%s mode 0%o, expected 0%o", name, st.st_mode & 07777, mode);
    off_t at = lseek(fd, 0, SEEK_CUR);
    if (at != pos) fail(v, "%s offset %lld, expected %lld", name, (long long) at, (long long) pos);
    int fl = fcntl(fd, F_GETFL);
    if ((fl & O_ACCMODE) != accmode) fail(v, "%s access mode %d, expected %d", name, fl & O_ACCMODE, accmode);
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) { fail(v, "readlink %s: %s", link, strerror(errno)); return; }
    target[n] = 0;
    if (n < 10 || strcmp(target + n - 10, " (deleted)") != 0) fail(v, "%s links to '%s', not deleted", name, target);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "big") != 0)) {
        fprintf(stderr, "usage: %s <workdir> [big]\n", argv[0]);
        return 2;
    }
    int big = argc == 3;
    size_t size = big ? BIG_SIZE : SMALL_SIZE;
    if (chdir(argv[1]) != 0) die("chdir(workdir)");
    int fd_rw = open("ghost.dat", O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd_rw < 0) die("open(ghost.dat)");
    if (fchmod(fd_rw, 0640) != 0) die("fchmod");
    if (ftruncate(fd_rw, (off_t) size) != 0) die("ftruncate");
    unsigned char *init = calloc(1, size);
    for (size_t i = 0; i < size; i++) if (patterned(i, size)) init[i] = byte_at(i);
    for (size_t i = 0; i < size; i += PAGE) {
        size_t len = size - i < PAGE ? size - i : PAGE;
        int zero = 1;
        for (size_t j = 0; j < len; j++) if (init[i + j]) { zero = 0; break; }
        if (zero) continue; /* leave a hole */
        if (pwrite(fd_rw, init + i, len, (off_t) i) != (ssize_t) len) die("pwrite(content)");
    }
    free(init);
    if (lseek(fd_rw, 1234, SEEK_SET) != 1234) die("lseek(fd_rw)");
    if (unlink("ghost.dat") != 0) die("unlink");

    install(SIGUSR2, on_verify_signal);
    if (big) {
        say("READY pid=%d size=%zu", (int) real_getpid(), size);
        unsigned long counter = 0;
        for (;;) {
            if (!tick(&counter)) continue;
            struct verdict v = {0};
            check_common(&v, fd_rw, size, 0640, 1234, O_RDWR, "fd_rw");
            check_content_fd(&v, fd_rw, size);
            char detail[64];
            snprintf(detail, sizeof detail, "size=%zu", size);
            report(&v, detail);
        }
    }

    char self_fd[64]; /* a second open file description of the unlinked file */
    snprintf(self_fd, sizeof self_fd, "/proc/self/fd/%d", fd_rw);
    int fd_ro = open(self_fd, O_RDONLY);
    if (fd_ro < 0) die("open(/proc/self/fd/N)");
    if (lseek(fd_ro, 77, SEEK_SET) != 77) die("lseek(fd_ro)");
    unsigned char *map = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd_rw, 0);
    if (map == MAP_FAILED) die("mmap(ghost)");
    volatile struct mailbox *mb = (volatile struct mailbox *) (map + MB_OFF);

    pid_t parent = real_getpid();
    pid_t child = fork_or_die("fork");
    if (child == 0) child_loop(mb, fd_rw, parent);
    say("READY pid=%d child=%d map=%p fd_rw=%d fd_ro=%d", (int) parent, (int) child, map, fd_rw, fd_ro);

    uint64_t request = 0;
    unsigned long counter = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        check_common(&v, fd_rw, size, 0640, 1234, O_RDWR, "fd_rw");
        check_common(&v, fd_ro, size, 0640, 77, O_RDONLY, "fd_ro");
        struct stat a, b;
        if (fstat(fd_rw, &a) == 0 && fstat(fd_ro, &b) == 0 && (a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
            fail(&v, "fd_rw and fd_ro are on different files (inodes %lu, %lu)", (unsigned long) a.st_ino,
                 (unsigned long) b.st_ino);
        }
        /* the cells of the previous round: kept through the dump */
        uint64_t cell = 0;
        if (pread(fd_ro, &cell, 8, MB_OFF + offsetof(struct mailbox, fd_cell)) != 8 || cell != request * 3) {
            fail(&v, "fd_cell reads %llu, expected %llu", (unsigned long long) cell, (unsigned long long) request * 3);
        }
        check_content_fd(&v, fd_ro, size);
        for (size_t i = 0; i < MAP_LEN && i < size; i++) {
            if (i >= MB_OFF && i < MB_OFF + PAGE) continue;
            unsigned char want = patterned(i, size) ? byte_at(i) : 0;
            if (map[i] != want) { fail(&v, "mapping byte %zu is %u, expected %u", i, map[i], want); break; }
        }
        request++;
        /* a write through the fd is seen in the mapping, and one through the mapping through the other fd */
        uint64_t val = request * 3;
        if (pwrite(fd_rw, &val, 8, MB_OFF + offsetof(struct mailbox, fd_cell)) != 8) fail(&v, "pwrite(fd_cell)");
        if (mb->fd_cell != val) fail(&v, "the mapping shows fd_cell %llu after writing %llu through the fd",
                                     (unsigned long long) mb->fd_cell, (unsigned long long) val);
        mb->map_cell = request * 5;
        cell = 0;
        if (pread(fd_ro, &cell, 8, MB_OFF + offsetof(struct mailbox, map_cell)) != 8 || cell != request * 5) {
            fail(&v, "fd_ro reads map_cell %llu after writing %llu through the mapping", (unsigned long long) cell,
                 (unsigned long long) request * 5);
        }
        /* the child reads the request through its mapping and answers through its fd */
        if (!ask_child(&mb->request, &mb->answered, request)) {
            fail(&v, "child did not answer request %llu within 5 s", (unsigned long long) request);
        } else {
            if (mb->answer != answer_for(request)) fail(&v, "child's answer %llu is wrong", (unsigned long long) mb->answer);
            if (!mb->child_ok) fail(&v, "child: its fd is not on the unlinked file of the right size");
        }
        check_child_alive(&v, child);
        char detail[128];
        snprintf(detail, sizeof detail, "pid=%d child=%d request=%llu", (int) parent, (int) child,
                 (unsigned long long) request);
        report(&v, detail);
    }
}
