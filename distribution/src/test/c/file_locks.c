/*
 * file_locks <workdir>: holds one lock of each kind and checks from outside its own open files that each is still
 * held, exactly as taken:
 *   flock_ex  flock(LOCK_EX)                      another open file cannot take LOCK_SH
 *   flock_sh  flock(LOCK_SH)                      another open file can take LOCK_SH but not LOCK_EX (not upgraded)
 *   posix     fcntl F_SETLK F_WRLCK bytes 10-29   a forked child's F_GETLK sees F_WRLCK 10-29 held by us;
 *             fcntl F_SETLK F_RDLCK bytes 100-EOF   F_RDLCK from 100 on; nothing on 30-99 (no lock grew)
 *   ofd       fcntl F_OFD_SETLK F_WRLCK bytes 0-4 another open file's F_OFD_GETLK sees it; nothing on 5-9
 *   none      open, never locked                  nobody sees a lock on it (reverse check)
 *   mapped    flock(LOCK_EX), mapped MAP_SHARED,  another open file cannot take LOCK_SH; the mapping still shows
 *             then its fd closed (as the JVM        the file (a write through it is read back by pread)
 *             holds its hsperfdata file)
 * Prints `READY pid=<pid>`, then `tick N`; on SIGUSR2 `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>

static int fd_flock_ex, fd_flock_sh, fd_posix, fd_ofd, fd_none;
static char *mapped;   /* MAP_SHARED view of "mapped", whose flock only the mapping keeps */
static unsigned mapped_writes;

static int open_file(const char *name) {
    int fd = open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) die(name);
    return fd;
}

static void set_lock(int fd, int cmd, short type, off_t start, off_t len, const char *what) {
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, cmd, &fl) != 0) die(what);
}

/* F_GETLK (or F_OFD_GETLK) for `type` on [start, start+len): the conflicting lock, l_type F_UNLCK if none. */
static struct flock probe(int fd, int cmd, short type, off_t start, off_t len) {
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, cmd, &fl) != 0) fl.l_type = -1;
    return fl;
}

/* Checks the POSIX locks from a forked child (another lock owner); returns a bit per failed check. */
static int check_posix_from_child(pid_t owner) {
    pid_t c = fork();
    if (c < 0) return 1 << 7;
    if (c == 0) {
        int bad = 0;
        struct flock w = probe(fd_posix, F_GETLK, F_WRLCK, 10, 20);
        if (w.l_type != F_WRLCK || w.l_pid != owner || w.l_start != 10 || w.l_len != 20) bad |= 1;
        struct flock gap = probe(fd_posix, F_GETLK, F_WRLCK, 30, 70);
        if (gap.l_type != F_UNLCK) bad |= 2;
        struct flock r = probe(fd_posix, F_GETLK, F_WRLCK, 100, 50);
        if (r.l_type != F_RDLCK || r.l_pid != owner || r.l_start != 100 || r.l_len != 0) bad |= 4;
        struct flock shared = probe(fd_posix, F_GETLK, F_RDLCK, 100, 50);
        if (shared.l_type != F_UNLCK) bad |= 8;
        struct flock none = probe(fd_none, F_GETLK, F_WRLCK, 0, 0);
        if (none.l_type != F_UNLCK) bad |= 16;
        _exit(bad);
    }
    int st;
    while (waitpid(c, &st, 0) < 0) {
        if (errno != EINTR) return 1 << 7;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1 << 7;
}

static void verify(struct verdict *v, pid_t pid) {
    int fds[] = {fd_flock_ex, fd_flock_sh, fd_posix, fd_ofd, fd_none};
    for (unsigned i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        if (fcntl(fds[i], F_GETFD) < 0) fail(v, "fd %d is not open", fds[i]);
    }
    int other = open_file("flock_ex");
    if (flock(other, LOCK_SH | LOCK_NB) == 0) fail(v, "flock_ex: another open file got LOCK_SH: our LOCK_EX is gone");
    close(other);

    other = open_file("flock_sh");
    if (flock(other, LOCK_SH | LOCK_NB) != 0) fail(v, "flock_sh: another open file cannot take LOCK_SH: %s", strerror(errno));
    flock(other, LOCK_UN);
    if (flock(other, LOCK_EX | LOCK_NB) == 0) fail(v, "flock_sh: another open file got LOCK_EX: our LOCK_SH is gone");
    close(other);

    int bad = check_posix_from_child(pid);
    if (bad & 1) fail(v, "posix: F_WRLCK 10-29 not seen by another process");
    if (bad & 2) fail(v, "posix: a lock appeared on bytes 30-99");
    if (bad & 4) fail(v, "posix: F_RDLCK 100-EOF not seen by another process");
    if (bad & 8) fail(v, "posix: the read lock from byte 100 conflicts with a reader (became a write lock?)");
    if (bad & 16) fail(v, "none: another process sees a POSIX lock on a file never locked");
    if (bad & 128) fail(v, "posix: the checking child failed");

    other = open_file("ofd");
    struct flock o = probe(other, F_OFD_GETLK, F_WRLCK, 0, 5);
    if (o.l_type != F_WRLCK || o.l_pid != -1 || o.l_start != 0 || o.l_len != 5) fail(v, "ofd: F_WRLCK 0-4 not seen from another open file (type %d pid %d)", o.l_type, (int) o.l_pid);
    struct flock ogap = probe(other, F_OFD_GETLK, F_WRLCK, 5, 5);
    if (ogap.l_type != F_UNLCK) fail(v, "ofd: a lock appeared on bytes 5-9");
    close(other);

    other = open_file("mapped");
    if (flock(other, LOCK_SH | LOCK_NB) == 0) fail(v, "mapped: another open file got LOCK_SH: the LOCK_EX kept by the mapping is gone");
    char seen[16] = {0};
    snprintf(mapped, 16, "write %u", ++mapped_writes);
    if (pread(other, seen, sizeof seen - 1, 0) < 0 || strcmp(seen, mapped) != 0) fail(v, "mapped: the file reads '%s', the mapping holds '%s'", seen, mapped);
    close(other);

    other = open_file("none");
    if (flock(other, LOCK_EX | LOCK_NB) != 0) fail(v, "none: another open file cannot flock a file never locked: %s", strerror(errno));
    struct flock n = probe(other, F_OFD_GETLK, F_WRLCK, 0, 0);
    if (n.l_type != F_UNLCK) fail(v, "none: an OFD lock appeared");
    close(other);
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    install(SIGUSR2, on_verify_signal);
    fd_flock_ex = open_file("flock_ex");
    fd_flock_sh = open_file("flock_sh");
    fd_posix = open_file("posix");
    fd_ofd = open_file("ofd");
    fd_none = open_file("none");
    if (flock(fd_flock_ex, LOCK_EX) != 0) die("flock(LOCK_EX)");
    if (flock(fd_flock_sh, LOCK_SH) != 0) die("flock(LOCK_SH)");
    set_lock(fd_posix, F_SETLK, F_WRLCK, 10, 20, "F_SETLK F_WRLCK");
    set_lock(fd_posix, F_SETLK, F_RDLCK, 100, 0, "F_SETLK F_RDLCK");
    set_lock(fd_ofd, F_OFD_SETLK, F_WRLCK, 0, 5, "F_OFD_SETLK");
    int fd_mapped = open_file("mapped");
    if (ftruncate(fd_mapped, 4096) != 0) die("ftruncate(mapped)");
    mapped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd_mapped, 0);
    if (mapped == MAP_FAILED) die("mmap(mapped)");
    if (flock(fd_mapped, LOCK_EX) != 0) die("flock(mapped)");
    close(fd_mapped);
    pid_t pid = real_getpid();
    say("READY pid=%d", (int) pid);
    unsigned long counter = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        if (real_getpid() != pid) fail(&v, "pid changed");
        verify(&v, pid);
        char detail[64];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu", (int) pid, counter);
        report(&v, detail);
    }
}
