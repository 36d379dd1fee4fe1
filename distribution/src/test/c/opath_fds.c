/*
 * opath_fds <workdir>: O_PATH fds. `lfd`: O_PATH|O_NOFOLLOW on the symbolic link `link` (-> `target`), the link
 * itself; `ffd`: O_PATH on `link` followed, i.e. on the regular file `target`.
 * On SIGUSR2 verifies: lfd is a symbolic link (fstatat AT_EMPTY_PATH) whose readlinkat says `target`, with O_PATH
 * and O_NOFOLLOW in its status flags; ffd is the regular file `target` (same inode) with O_PATH and without
 * O_NOFOLLOW. Prints `READY pid=<pid> lfd=<n> ffd=<n>`, `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 1, "");
    int t = open("target", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (t < 0 || write(t, "data", 4) != 4) die("target");
    close(t);
    unlink("link");
    if (symlink("target", "link") != 0) die("symlink");
    int lfd = open("link", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (lfd < 0) die("open(link, O_PATH|O_NOFOLLOW)");
    int ffd = open("link", O_PATH | O_CLOEXEC);
    if (ffd < 0) die("open(link, O_PATH)");
    struct stat target;
    if (stat("target", &target) != 0) die("stat(target)");
    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d lfd=%d ffd=%d", (int) real_getpid(), lfd, ffd);
    unsigned long counter = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        struct stat st;
        char buf[64] = {0};
        if (fstatat(lfd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) fail(&v, "fstatat(lfd): %s", strerror(errno));
        else if (!S_ISLNK(st.st_mode)) fail(&v, "lfd is not a symbolic link (mode 0%o)", st.st_mode);
        if (readlinkat(lfd, "", buf, sizeof buf - 1) != 6 || strcmp(buf, "target") != 0) {
            fail(&v, "readlinkat(lfd) is '%s' (%s)", buf, strerror(errno));
        }
        int fl = fcntl(lfd, F_GETFL);
        if (fl < 0 || !(fl & O_PATH) || !(fl & O_NOFOLLOW)) fail(&v, "lfd flags 0%o", fl);
        if (fstat(ffd, &st) != 0) fail(&v, "fstat(ffd): %s", strerror(errno));
        else if (!S_ISREG(st.st_mode) || st.st_ino != target.st_ino) fail(&v, "ffd is not the target file");
        fl = fcntl(ffd, F_GETFL);
        if (fl < 0 || !(fl & O_PATH) || (fl & O_NOFOLLOW)) fail(&v, "ffd flags 0%o", fl);
        if (!(fcntl(lfd, F_GETFD) & FD_CLOEXEC)) fail(&v, "lfd lost FD_CLOEXEC");
        char detail[64];
        snprintf(detail, sizeof detail, "pid=%d counter=%lu", (int) real_getpid(), counter);
        report(&v, detail);
    }
}
