/* threads8 READYFILE: main + 7 threads, each writes 1 MiB of its own, then sleeps. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static volatile int started;
static void *run(void *arg) {
    (void) arg;
    char *m = malloc(1 << 20);
    if (m) memset(m, 0x3c, 1 << 20);
    __atomic_add_fetch(&started, 1, __ATOMIC_RELEASE);
    for (;;) sleep(1);
    return NULL;
}
int main(int argc, char **argv) {
    if (argc != 2) return 2;
    for (int fd = 3; fd < 1024; fd++) close(fd);   /* fds the caller leaked (e.g. a pipe) would make the dump fail */
    pthread_t t;
    for (int i = 0; i < 7; i++) if (pthread_create(&t, NULL, run, NULL) != 0) return 1;
    char *m = malloc(1 << 20);
    if (m) memset(m, 0x3c, 1 << 20);
    while (__atomic_load_n(&started, __ATOMIC_ACQUIRE) < 7) usleep(1000);
    int fd = open(argv[1], O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) close(fd);
    for (;;) sleep(1);
}
