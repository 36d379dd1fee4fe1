/*
 * tmpfile <workdir> [child-maps|maps]: a process holding a file made with open(workdir, O_TMPFILE) — an inode that never had a name,
 * as MariaDB's temporary files are — through two open file descriptions: fd_rw (the O_TMPFILE open, O_RDWR, offset
 * 1234) and fd_ro (a reopen of /proc/self/fd/<fd_rw>, O_RDONLY, offset 77). The file holds 3 pages of a pattern,
 * mode 0640.
 *
 * On SIGUSR2 it checks: both fds on one inode with st_nlink 0, size and mode, access modes and offsets, the content
 * through fd_ro, that a write through fd_rw is read through fd_ro, and that the file can still be given a name with
 * linkat (as only a file opened with O_TMPFILE can: a file that had a name and lost it cannot), then removes that
 * name. Prints `READY pid=<pid> fd_rw=<n> fd_ro=<n>`, `tick N`, `VERDICT PASS|FAIL`.
 *
 * With `child-maps` a forked child maps the file MAP_SHARED and closes its fds: it answers requests the parent
 * writes through fd_rw by writing through its mapping, which the parent reads through fd_ro — after a restore the fd
 * and the mapping must still be one file. With `maps` the process maps it itself; then the file comes back with a
 * name restored first by the mapping, so linkat is not checked (a mapped O_TMPFILE file is kept shared, not linkable).
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PAGE 4096ul
#define SIZE (3 * PAGE)

static unsigned char byte_at(size_t i) { return (unsigned char) (0xa5 ^ (i * 13 + i / PAGE)); }

/* The mailbox: page 2 of the file (its pattern is not checked), request at +0 and answer at +8. */
#define MB (2 * PAGE)
static uint64_t answer_for(uint64_t req) { return req * 7 + 1; }

static void serve(volatile uint64_t *mb, pid_t parent) {
    uint64_t done = 0;
    for (;;) {
        if (getppid() != parent) _exit(0);
        uint64_t req = __atomic_load_n(&mb[0], __ATOMIC_ACQUIRE);
        if (req != done) {
            __atomic_store_n(&mb[1], answer_for(req), __ATOMIC_RELEASE);
            done = req;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Writes a request through fd_rw and waits up to 2 s for the mapping's answer, read through fd_ro. */
static int ask(int fd_rw, int fd_ro, uint64_t req) {
    if (pwrite(fd_rw, &req, 8, MB) != 8) return 0;
    for (int i = 0; i < 400; i++) {
        uint64_t ans = 0;
        if (pread(fd_ro, &ans, 8, MB + 8) == 8 && ans == answer_for(req)) return 1;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 2, "[child-maps|maps]");
    int fd_rw = open(".", O_TMPFILE | O_RDWR, 0640);
    if (fd_rw < 0) die("open(O_TMPFILE)");
    fchmod(fd_rw, 0640);   /* whatever the umask */
    unsigned char buf[SIZE];
    for (size_t i = 0; i < SIZE; i++) buf[i] = byte_at(i);
    if (pwrite(fd_rw, buf, SIZE, 0) != (ssize_t) SIZE) die("pwrite");
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd_rw);
    int fd_ro = open(self, O_RDONLY);
    if (fd_ro < 0) die("open(/proc/self/fd)");
    if (lseek(fd_rw, 1234, SEEK_SET) != 1234 || lseek(fd_ro, 77, SEEK_SET) != 77) die("lseek");
    const char *mode = argc > 2 ? argv[2] : "";
    int child_maps = strcmp(mode, "child-maps") == 0, maps = strcmp(mode, "maps") == 0;
    pid_t child = 0;
    volatile uint64_t *mine = NULL;
    if (child_maps) {
        pid_t parent = real_getpid();
        child = fork();
        if (child < 0) die("fork");
        if (child == 0) {
            volatile uint64_t *mb = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd_rw, 0);
            if (mb == MAP_FAILED) _exit(3);
            close(fd_rw);
            close(fd_ro);
            serve(mb + MB / 8, parent);
        }
    } else if (maps) {
        mine = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd_rw, 0);
        if (mine == MAP_FAILED) die("mmap");
    }
    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d fd_rw=%d fd_ro=%d child=%d", (int) real_getpid(), fd_rw, fd_ro, (int) child);
    unsigned long counter = 0;
    unsigned char round = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        struct stat a, b;
        if (fstat(fd_rw, &a) != 0 || fstat(fd_ro, &b) != 0) {
            fail(&v, "fstat: %s", strerror(errno));
            report(&v, "");
            continue;
        }
        if (a.st_ino != b.st_ino || a.st_dev != b.st_dev) fail(&v, "fd_rw and fd_ro are on different inodes");
        if (a.st_nlink != 0) fail(&v, "st_nlink=%lu, expected 0", (unsigned long) a.st_nlink);
        if (a.st_size != (off_t) SIZE) fail(&v, "size %lld, expected %lu", (long long) a.st_size, SIZE);
        if ((a.st_mode & 07777) != 0640) fail(&v, "mode 0%o, expected 0640", a.st_mode & 07777);
        if ((fcntl(fd_rw, F_GETFL) & O_ACCMODE) != O_RDWR) fail(&v, "fd_rw is not O_RDWR");
        if ((fcntl(fd_ro, F_GETFL) & O_ACCMODE) != O_RDONLY) fail(&v, "fd_ro is not O_RDONLY");
        if (lseek(fd_rw, 0, SEEK_CUR) != 1234) fail(&v, "fd_rw offset %lld", (long long) lseek(fd_rw, 0, SEEK_CUR));
        if (lseek(fd_ro, 0, SEEK_CUR) != 77) fail(&v, "fd_ro offset %lld", (long long) lseek(fd_ro, 0, SEEK_CUR));
        unsigned char got[SIZE];
        if (pread(fd_ro, got, SIZE, 0) != (ssize_t) SIZE) fail(&v, "pread through fd_ro: %s", strerror(errno));
        for (size_t i = 1; i < SIZE; i++) {   /* byte 0 is the cell written below, page 2 the mailbox */
            if (i >= MB && i < MB + 24) continue;
            if (got[i] != byte_at(i)) { fail(&v, "byte %zu is %u, expected %u", i, got[i], byte_at(i)); break; }
        }
        unsigned char cell = ++round, seen = 0;
        if (pwrite(fd_rw, &cell, 1, 0) != 1 || pread(fd_ro, &seen, 1, 0) != 1 || seen != cell) {
            fail(&v, "a write through fd_rw is not read through fd_ro (%u vs %u)", cell, seen);
        }
        if (child_maps && !ask(fd_rw, fd_ro, counter)) fail(&v, "the child's mapping did not answer: not the fd's file");
        if (maps) {
            uint64_t req = counter * 3, seen = 0;
            mine[MB / 8 + 2] = req;   /* through the mapping, read through fd_ro */
            if (pread(fd_ro, &seen, 8, MB + 16) != 8 || seen != req) fail(&v, "the mapping and the fd are two files");
        }
        char name[64];
        snprintf(name, sizeof name, "linked-%lu", counter);
        if (maps) {
            report(&v, "one nameless O_TMPFILE inode, mapped and held");
            continue;
        }
        if (linkat(AT_FDCWD, self, AT_FDCWD, name, AT_SYMLINK_FOLLOW) != 0) {
            fail(&v, "linkat of the O_TMPFILE file: %s", strerror(errno));
        } else {
            struct stat l;
            if (stat(name, &l) != 0 || l.st_ino != a.st_ino) fail(&v, "the new name is not the file");
            if (unlink(name) != 0) fail(&v, "unlink(%s): %s", name, strerror(errno));
        }
        report(&v, "one nameless O_TMPFILE inode, linkable");
    }
}
