/* pipes8 READYFILE: the root forks 8 children; pipe i runs from the root to child i and is full (64 KiB). */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc != 2) return 2;
    for (int fd = 3; fd < 1024; fd++) close(fd);
    pid_t root = getpid();
    for (int i = 0; i < 8; i++) {
        int p[2];
        if (pipe(p) != 0) return 1;
        if (fork() == 0) {   /* holds the read end, never reads */
            close(p[1]);
            for (;;) { if (getppid() != root) _exit(0); sleep(1); }
        }
        close(p[0]);
        fcntl(p[1], F_SETFL, O_NONBLOCK);
        char b[4096];
        memset(b, 'p', sizeof b);
        while (write(p[1], b, sizeof b) > 0) {}
    }
    int fd = open(argv[1], O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) close(fd);
    for (;;) pause();
}
