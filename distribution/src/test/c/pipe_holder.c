/*
 * pipe_holder <workdir> [pipe|fifo]: one process holding both ends of a pipe with data in flight.
 *
 * pipe (default): an anonymous pipe resized to 128 KiB and filled with FILL (> 64 KiB) bytes of a known stream
 *   (byte k of the stream is (k * 131 + 7) % 251); the read end is O_NONBLOCK, the write end blocking.
 * fifo: the same through the FIFO <workdir>/p.fifo, opened once for reading (O_NONBLOCK) and once for writing.
 * The pipe is left alone between verifications, so a dump sees FILL bytes in flight.
 * Prints `READY pid=<pid> rfd=<n> wfd=<n> ino=<pipe inode> fill=<bytes>`; on SIGUSR2 it reads every buffered byte
 * and checks count and order, checks F_GETPIPE_SZ, both ends' O_NONBLOCK and (fifo) that the FIFO is still the
 * file at its path, writes and reads back a round trip, refills FILL bytes and prints `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/stat.h>

#define CAPACITY (128 * 1024)
#define FILL (100 * 1000)

static unsigned char stream_byte(unsigned long k) {
    return (unsigned char) ((k * 131 + 7) % 251);
}

static unsigned long written; /* stream bytes written so far */
static unsigned long consumed; /* stream bytes read so far */

static int fill(int wfd, unsigned long n) {
    unsigned char buf[4096];
    while (n > 0) {
        size_t chunk = n < sizeof buf ? n : sizeof buf;
        for (size_t i = 0; i < chunk; i++) buf[i] = stream_byte(written + i);
        ssize_t w = write(wfd, buf, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        written += (unsigned long) w;
        n -= (unsigned long) w;
    }
    return 0;
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 2, "[pipe|fifo]");
    int fifo = argc == 3 && strcmp(argv[2], "fifo") == 0;
    int rfd, wfd;
    char fifo_path[4096] = "";
    if (fifo) {
        snprintf(fifo_path, sizeof fifo_path, "%s/p.fifo", argv[1]);
        if (mkfifo(fifo_path, 0600) != 0) die("mkfifo");
        rfd = open(fifo_path, O_RDONLY | O_NONBLOCK);
        if (rfd < 0) die("open(fifo, O_RDONLY)");
        wfd = open(fifo_path, O_WRONLY);
        if (wfd < 0) die("open(fifo, O_WRONLY)");
    } else {
        int p[2];
        if (pipe(p) != 0) die("pipe");
        rfd = p[0];
        wfd = p[1];
        if (fcntl(rfd, F_SETFL, O_NONBLOCK) != 0) die("F_SETFL");
    }
    if (fcntl(wfd, F_SETPIPE_SZ, CAPACITY) < CAPACITY) die("F_SETPIPE_SZ");
    if (fill(wfd, FILL) != 0) die("fill");
    struct stat st;
    if (fstat(rfd, &st) != 0) die("fstat");
    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d rfd=%d wfd=%d ino=%lu fill=%d", (int) real_getpid(), rfd, wfd, (unsigned long) st.st_ino, FILL);

    unsigned long counter = 0;
    unsigned long verifications = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};

        /* every byte in flight, in order, nothing more */
        unsigned long before = consumed, bad = 0;
        unsigned char buf[8192];
        for (;;) {
            ssize_t r = read(rfd, buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 && errno == EAGAIN) break;
            if (r < 0) { fail(&v, "read: %s", strerror(errno)); break; }
            if (r == 0) { fail(&v, "EOF on the read end"); break; }
            for (ssize_t i = 0; i < r; i++)
                if (buf[i] != stream_byte(consumed + (unsigned long) i)) bad++;
            consumed += (unsigned long) r;
        }
        if (consumed - before != FILL) fail(&v, "read %lu bytes in flight, expected %d", consumed - before, FILL);
        if (bad) fail(&v, "%lu bytes out of order or corrupt", bad);

        int sz = fcntl(rfd, F_GETPIPE_SZ);
        if (sz != CAPACITY) fail(&v, "F_GETPIPE_SZ %d, expected %d", sz, CAPACITY);
        int rfl = fcntl(rfd, F_GETFL), wfl = fcntl(wfd, F_GETFL);
        if (rfl < 0 || !(rfl & O_NONBLOCK)) fail(&v, "read end lost O_NONBLOCK (flags 0%o)", rfl);
        if (wfl < 0 || (wfl & O_NONBLOCK)) fail(&v, "write end gained O_NONBLOCK (flags 0%o)", wfl);
        if ((rfl & O_ACCMODE) != O_RDONLY || (wfl & O_ACCMODE) != O_WRONLY) fail(&v, "access modes 0%o/0%o", rfl, wfl);
        if (fifo) {
            struct stat now, path;
            if (fstat(rfd, &now) != 0 || stat(fifo_path, &path) != 0) fail(&v, "stat: %s", strerror(errno));
            else if (now.st_ino != path.st_ino || now.st_dev != path.st_dev || !S_ISFIFO(path.st_mode))
                fail(&v, "fd %d is no longer the FIFO at %s", rfd, fifo_path);
        }

        /* a round trip through the restored pipe */
        const char msg[] = "round trip";
        char back[sizeof msg];
        if (write(wfd, msg, sizeof msg) != (ssize_t) sizeof msg || read(rfd, back, sizeof back) != (ssize_t) sizeof back
                || memcmp(msg, back, sizeof msg) != 0)
            fail(&v, "round trip failed");

        /* leave FILL bytes in flight again for the next dump */
        if (fill(wfd, FILL) != 0) fail(&v, "refill: %s", strerror(errno));
        verifications++;
        char detail[160];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu consumed=%lu verifications=%lu", (int) real_getpid(),
                 counter, consumed, verifications);
        report(&v, detail);
    }
}
