/* sockets100 READYFILE: 100 stream socketpairs between the root and its child, 16 KiB queued on each. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc != 2) return 2;
    for (int fd = 3; fd < 1024; fd++) close(fd);
    int sv[100][2];
    char b[16384];
    memset(b, 's', sizeof b);
    for (int i = 0; i < 100; i++) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]) != 0) return 1;
        if (write(sv[i][0], b, sizeof b) != (ssize_t) sizeof b) return 1;   /* queued at the child's end */
    }
    pid_t root = getpid();
    if (fork() == 0) {
        for (int i = 0; i < 100; i++) close(sv[i][0]);
        for (;;) { if (getppid() != root) _exit(0); sleep(1); }
    }
    for (int i = 0; i < 100; i++) close(sv[i][1]);
    int fd = open(argv[1], O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) close(fd);
    for (;;) pause();
}
