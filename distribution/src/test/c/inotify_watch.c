/*
 * inotify_watch <workdir> [noread]: an inotify instance at fd 10 (IN_NONBLOCK) with watches of wd 1 (a.txt,
 * IN_MODIFY), wd 3 (directory d, IN_CREATE) and wd 4 (b.txt, IN_MODIFY|IN_ONESHOT); wd 2 was added and removed.
 * The loop polls fd 10 and prints `EVENT wd=<wd> mask=<hex> name=<name>` per event; with `noread` it never reads
 * fd 10, so events stay queued. Prints `READY pid=<pid>`, `tick N`; on SIGUSR2 checks its fdinfo (wds 1, 3, 4 with
 * their masks) and that a new watch gets a wd none of them has, and prints `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>

static void touch(const char *p) {
    int f = open(p, O_CREAT | O_WRONLY, 0644);
    if (f < 0) die(p);
    close(f);
}

static int add(const char *p, uint32_t mask) {
    int wd = inotify_add_watch(10, p, mask);
    if (wd < 0) die("inotify_add_watch");
    return wd;
}

static void read_events(void) {
    char buf[4096] __attribute__((aligned(8)));
    for (;;) {
        ssize_t n = read(10, buf, sizeof buf);
        if (n <= 0) return;
        for (char *p = buf; p < buf + n; ) {
            struct inotify_event *e = (struct inotify_event *) p;
            say("EVENT wd=%d mask=%x name=%s", e->wd, e->mask, e->len ? e->name : "");
            p += sizeof *e + e->len;
        }
    }
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 99, "[noread]");
    int noread = argc == 3 && strcmp(argv[2], "noread") == 0;
    install(SIGUSR2, on_verify_signal);
    touch("a.txt");
    touch("b.txt");
    if (mkdir("d", 0755) != 0 && errno != EEXIST) die("mkdir");
    int fd = inotify_init1(IN_NONBLOCK);
    if (fd < 0 || dup2(fd, 10) != 10) die("inotify_init1");
    close(fd);
    int w1 = add("a.txt", IN_MODIFY);
    int w2 = add("b.txt", IN_MODIFY);
    if (inotify_rm_watch(10, w2) != 0) die("inotify_rm_watch");
    int w3 = add("d", IN_CREATE);
    int w4 = add("b.txt", IN_MODIFY | IN_ONESHOT);
    char ev[4096];
    while (read(10, ev, sizeof ev) > 0) {} /* the IN_IGNORED of wd 2 */
    if (w1 != 1 || w3 != 3 || w4 != 4) {
        say("SETUP FAIL wds %d %d %d", w1, w3, w4);
        return 1;
    }
    say("READY pid=%d", (int) real_getpid());
    unsigned long counter = 0;
    for (;;) {
        say("tick %lu", ++counter);
        if (noread) {
            sleep_ms(200);
        } else {
            struct pollfd p = {10, POLLIN, 0};
            if (poll(&p, 1, 200) > 0) read_events();
        }
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;
        struct verdict v = {0};
        char info[4096];
        int f = open("/proc/self/fdinfo/10", O_RDONLY);
        ssize_t n = f < 0 ? -1 : read(f, info, sizeof info - 1);
        if (f >= 0) close(f);
        info[n > 0 ? n : 0] = 0;
        if (!strstr(info, "inotify wd:1 ") || !strstr(info, "inotify wd:3 ") || !strstr(info, "inotify wd:4 "))
            fail(&v, "wds 1, 3, 4 not all there: %s", info);
        if (strstr(info, "inotify wd:2 ")) fail(&v, "wd 2 is back");
        if (!strstr(info, "mask:80000002")) fail(&v, "the IN_ONESHOT|IN_MODIFY mask of wd 4 is gone");
        if (!strstr(info, "mask:100 ")) fail(&v, "the IN_CREATE mask of wd 3 is gone");
        if (!(fcntl(10, F_GETFL) & O_NONBLOCK)) fail(&v, "fd 10 lost O_NONBLOCK");
        int fresh = inotify_add_watch(10, ".", IN_ATTRIB);
        if (fresh < 0 || fresh == 1 || fresh == 3 || fresh == 4) fail(&v, "a new watch got wd %d", fresh);
        else inotify_rm_watch(10, fresh);
        char detail[32];
        snprintf(detail, sizeof detail, "fresh_wd=%d", fresh);
        report(&v, detail);
    }
}
