/*
 * netlink_sockets <workdir> [unread]: a process holding three netlink sockets, as dnsmasq or a DHCP client does.
 *
 *   route:   NETLINK_ROUTE, SOCK_RAW, bound with nl_groups RTMGRP_IPV4_IFADDR (group 5), joined to group 33
 *            (RTNLGRP_BRVLAN, past the 32 bits nl_groups holds) with NETLINK_ADD_MEMBERSHIP; NETLINK_PKTINFO,
 *            NETLINK_EXT_ACK, NETLINK_NO_ENOBUFS, SO_PASSCRED on; SO_RCVBUF 300000.
 *   generic: NETLINK_GENERIC, SOCK_DGRAM, O_NONBLOCK, never bound (port id 0).
 *   ctl:     NETLINK_ROUTE, SOCK_RAW, connect()ed to the kernel (port id 0), used to change addresses.
 *
 * On SIGUSR2 it checks that every socket has the same port id, groups (NETLINK_LIST_MEMBERSHIPS), options and flags
 * as before (and NETLINK_CAP_ACK still off), that an RTM_GETLINK dump through `route` lists `lo`, and that the group
 * subscription works: it adds 127.77.A.B/32 to lo through `ctl`, reads the RTM_NEWADDR notification on `route`,
 * removes the address and drains the RTM_DELADDR one. With `unread` it leaves one notification unread on `route`
 * after READY (the dump must be refused). Prints `READY pid=<pid> portid=<n>`, `tick N`, `VERDICT PASS|FAIL`.
 */
#include "workload.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct state { unsigned portid; unsigned groups[4]; int rcvbuf; };

static int route, generic, ctl;
static struct state before;

static void read_state(struct state *s) {
    struct sockaddr_nl a;
    socklen_t len = sizeof a;
    memset(s, 0, sizeof *s);
    if (getsockname(route, (struct sockaddr *) &a, &len) == 0) s->portid = a.nl_pid;
    len = sizeof s->groups;
    getsockopt(route, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, s->groups, &len);
    len = sizeof s->rcvbuf;
    getsockopt(route, SOL_SOCKET, SO_RCVBUF, &s->rcvbuf, &len);
}

static int opt(int fd, int level, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, name, &v, &len) != 0) return -1;
    return v;
}

/* Sends RTM_NEWADDR or RTM_DELADDR for 127.77.a.b/32 on lo through ctl; returns the ack's error (0 = done). */
static int change_address(int type, unsigned a, unsigned b) {
    struct { struct nlmsghdr h; struct ifaddrmsg ifa; struct rtattr rta; struct in_addr addr; } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = (unsigned short) type;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
    req.h.nlmsg_seq = 1;
    req.ifa.ifa_family = AF_INET;
    req.ifa.ifa_prefixlen = 32;
    req.ifa.ifa_scope = RT_SCOPE_HOST;
    req.ifa.ifa_index = if_nametoindex("lo");
    req.rta.rta_type = IFA_LOCAL;
    req.rta.rta_len = RTA_LENGTH(sizeof req.addr);
    req.addr.s_addr = htonl((127u << 24) | (77u << 16) | (a << 8) | b);
    if (send(ctl, &req, sizeof req, 0) != (ssize_t) sizeof req) return errno;
    char buf[4096];
    ssize_t n = recv(ctl, buf, sizeof buf, 0);
    if (n < (ssize_t) (sizeof(struct nlmsghdr) + sizeof(struct nlmsgerr))) return EPROTO;
    struct nlmsghdr *h = (struct nlmsghdr *) buf;
    if (h->nlmsg_type != NLMSG_ERROR) return EPROTO;
    return -((struct nlmsgerr *) NLMSG_DATA(h))->error;
}

/* Reads notifications on route without waiting; returns how many of `type` came. */
static int drain(int type) {
    char buf[8192];
    int seen = 0;
    for (;;) {
        ssize_t n = recv(route, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) return seen;
        for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (unsigned) n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == type) seen++;
        }
    }
}

static int lists_lo(void) {
    struct { struct nlmsghdr h; struct ifinfomsg i; } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = RTM_GETLINK;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = 2;
    if (send(route, &req, sizeof req, 0) != (ssize_t) sizeof req) return 0;
    static char buf[65536];
    int found = 0;
    for (;;) {
        ssize_t n = recv(route, buf, sizeof buf, 0);
        if (n <= 0) return found;
        for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (unsigned) n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE) return found;
            if (h->nlmsg_type != RTM_NEWLINK) continue;
            struct ifinfomsg *i = NLMSG_DATA(h);
            int len = (int) IFLA_PAYLOAD(h);
            for (struct rtattr *r = IFLA_RTA(i); RTA_OK(r, len); r = RTA_NEXT(r, len)) {
                if (r->rta_type == IFLA_IFNAME && strcmp(RTA_DATA(r), "lo") == 0) found = 1;
            }
        }
    }
}

int main(int argc, char **argv) {
    start_in_workdir(argc, argv, 1, 2, "[unread]");
    int unread = argc > 2 && strcmp(argv[2], "unread") == 0;
    route = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    generic = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK, NETLINK_GENERIC);
    ctl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    if (route < 0 || generic < 0 || ctl < 0) die("socket(AF_NETLINK)");
    struct sockaddr_nl a = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_IFADDR};
    if (bind(route, (struct sockaddr *) &a, sizeof a) != 0) die("bind(route)");
    int one = 1, group = 33, rcvbuf = 300000;
    if (setsockopt(route, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0) die("ADD_MEMBERSHIP");
    setsockopt(route, SOL_NETLINK, NETLINK_PKTINFO, &one, sizeof one);
    setsockopt(route, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    setsockopt(route, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
    setsockopt(route, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    setsockopt(route, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (connect(ctl, (struct sockaddr *) &kernel, sizeof kernel) != 0) die("connect(ctl)");
    read_state(&before);
    unsigned tag = (unsigned) real_getpid();
    if (unread) {
        if (change_address(RTM_NEWADDR, (tag >> 8) & 0xff, tag & 0xff) != 0) die("RTM_NEWADDR");
        change_address(RTM_DELADDR, (tag >> 8) & 0xff, tag & 0xff);   /* the notifications stay queued */
    }
    install(SIGUSR2, on_verify_signal);
    say("READY pid=%d portid=%u", (int) real_getpid(), before.portid);
    unsigned long counter = 0;
    for (;;) {
        if (!tick(&counter)) continue;
        struct verdict v = {0};
        struct state now;
        read_state(&now);
        if (now.portid != before.portid) fail(&v, "route port id %u, was %u", now.portid, before.portid);
        if (memcmp(now.groups, before.groups, sizeof now.groups) != 0) {
            fail(&v, "route groups %x %x, were %x %x", now.groups[0], now.groups[1], before.groups[0], before.groups[1]);
        }
        if (!(before.groups[0] & (1u << 4)) || !(before.groups[1] & 1u)) fail(&v, "groups 5 and 33 were not joined");
        if (now.rcvbuf != before.rcvbuf) fail(&v, "route SO_RCVBUF %d, was %d", now.rcvbuf, before.rcvbuf);
        if (opt(route, SOL_NETLINK, NETLINK_PKTINFO) != 1) fail(&v, "NETLINK_PKTINFO is off");
        if (opt(route, SOL_NETLINK, NETLINK_EXT_ACK) != 1) fail(&v, "NETLINK_EXT_ACK is off");
        if (opt(route, SOL_NETLINK, NETLINK_NO_ENOBUFS) != 1) fail(&v, "NETLINK_NO_ENOBUFS is off");
        if (opt(route, SOL_NETLINK, NETLINK_CAP_ACK) != 0) fail(&v, "NETLINK_CAP_ACK is on");
        if (opt(route, SOL_SOCKET, SO_PASSCRED) != 1) fail(&v, "SO_PASSCRED is off");
        if (opt(route, SOL_SOCKET, SO_TYPE) != SOCK_RAW) fail(&v, "route is not SOCK_RAW");
        if (opt(generic, SOL_SOCKET, SO_PROTOCOL) != NETLINK_GENERIC) fail(&v, "generic is not NETLINK_GENERIC");
        if (opt(generic, SOL_SOCKET, SO_TYPE) != SOCK_DGRAM) fail(&v, "generic is not SOCK_DGRAM");
        if (!(fcntl(generic, F_GETFL) & O_NONBLOCK)) fail(&v, "generic lost O_NONBLOCK");
        if (fcntl(route, F_GETFL) & O_NONBLOCK) fail(&v, "route got O_NONBLOCK");
        struct sockaddr_nl g;
        socklen_t glen = sizeof g;
        if (getsockname(generic, (struct sockaddr *) &g, &glen) != 0 || g.nl_pid != 0) {
            fail(&v, "generic got bound (port id %u)", g.nl_pid);
        }
        drain(0);
        if (!lists_lo()) fail(&v, "RTM_GETLINK through route does not list lo");
        unsigned a8 = (tag >> 8) & 0xff, b8 = (tag + counter) & 0xff;
        int err = change_address(RTM_NEWADDR, a8, b8);
        if (err != 0) fail(&v, "adding 127.77.%u.%u: %s", a8, b8, strerror(err));
        else if (drain(RTM_NEWADDR) < 1) fail(&v, "no RTM_NEWADDR notification on route (group 5)");
        change_address(RTM_DELADDR, a8, b8);
        drain(0);
        report(&v, "three netlink sockets, groups, options, notifications");
    }
}
