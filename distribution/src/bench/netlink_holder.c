/*
 * netlink_holder: a workload of bench/targets.sh. Holds a netlink socket, which no cryo plugin handles, so that a
 * dump of it is refused; creates READYFILE, then sleeps until killed.
 *
 *   usage: netlink_holder READYFILE
 */
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s READYFILE\n", argv[0]);
        return 2;
    }
    if (socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) < 0) {
        perror("socket(AF_NETLINK)");
        return 1;
    }
    int ready = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (ready < 0) {
        perror(argv[1]);
        return 1;
    }
    close(ready);
    for (;;) {
        pause();
    }
}
