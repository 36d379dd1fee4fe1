/*
 * tty_job <workdir>: a job started from a shell on a terminal (run under `script`): its fds 0, 1 and 2 are the
 * terminal, and a fourth fd opens /dev/tty (the controlling terminal of its session). Prints
 * `READY pid=<pid> tty=<ttyname(0)>`, then `tick N`; on SIGUSR2 checks that fds 0, 1, 2 and 3 are all terminals,
 * that fds 0-2 are one terminal (same st_rdev), that it is the controlling terminal of its session (tcgetsid, and
 * /dev/tty opens) and that the fds kept their flags (O_RDWR), and prints `VERDICT PASS tty=<ttyname(0)> ...`
 * or `VERDICT FAIL ...`. The output goes to the terminal: `script` records it.
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>

static void verify(struct verdict *v) {
    struct stat first;
    if (fstat(0, &first) != 0) {
        fail(v, "fstat(0): %s", strerror(errno));
        return;
    }
    for (int fd = 0; fd <= 3; fd++) {
        struct stat st;
        if (!isatty(fd)) fail(v, "fd %d is not a terminal", fd);
        /* fd 3 was opened through /dev/tty: fstat shows /dev/tty itself */
        else if (fd < 3 && (fstat(fd, &st) != 0 || st.st_rdev != first.st_rdev)) fail(v, "fd %d is another terminal than fd 0", fd);
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || (fl & O_ACCMODE) != O_RDWR) fail(v, "fd %d: flags 0%o, not O_RDWR", fd, fl);
    }
    if (tcgetsid(0) != getsid(0)) fail(v, "fd 0's terminal is not the controlling terminal of our session (%d, %d)", (int) tcgetsid(0), (int) getsid(0));
    int ctty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (ctty < 0) fail(v, "no controlling terminal: open(/dev/tty): %s", strerror(errno));
    else close(ctty);
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    install(SIGUSR2, on_verify_signal);
    int t = open("/dev/tty", O_RDWR | O_NOCTTY);
    if (t < 0) die("open(/dev/tty)");
    if (t != 3 && (dup2(t, 3) != 3 || close(t) != 0)) die("dup2(/dev/tty, 3)");
    const char *name = ttyname(0);
    say("READY pid=%d tty=%s", (int) real_getpid(), name ? name : "?");
    unsigned long counter = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        verify(&v);
        char detail[128];
        name = ttyname(0);
        snprintf(detail, sizeof detail, "tty=%s counter=%lu", name ? name : "?", counter);
        report(&v, detail);
    }
}
