/* tree9 READYFILE: root -> 2 children -> 3 grandchildren each (9 processes); each writes 1 MiB, then sleeps. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
static void hold(void) {
    char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED) memset(m, 0x5a, 1 << 20);
}
static void idle(pid_t parent) { for (;;) { if (getppid() != parent) _exit(0); sleep(1); } }
int main(int argc, char **argv) {
    if (argc != 2) return 2;
    for (int fd = 3; fd < 1024; fd++) close(fd);   /* fds the caller leaked (e.g. a pipe) would make the dump fail */
    int ready[2];
    if (pipe(ready) != 0) return 1;   /* closed before READYFILE appears: nothing of it is in the tree */
    pid_t root = getpid();
    hold();
    for (int c = 0; c < 2; c++) {
        if (fork() == 0) {
            pid_t me = getpid();
            hold();
            for (int g = 0; g < 3; g++) {
                if (fork() == 0) { hold(); close(ready[0]); close(ready[1]); idle(me); }
            }
            close(ready[0]);
            close(ready[1]);
            idle(root);
        }
    }
    close(ready[1]);
    char b;
    while (read(ready[0], &b, 1) > 0) {}   /* EOF: all 8 descendants have set up and closed their end */
    close(ready[0]);
    int fd = open(argv[1], O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) close(fd);
    for (;;) pause();
}
