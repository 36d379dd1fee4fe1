/*
 * Inet sockets for the inet-socket plugin's tests. Usage: inet_sockets WORKDIR [MODE [ARG]]
 *
 *   kinds (default)  one process holding every kind of socket the plugin keeps without options: an IPv4 TCP listener
 *                    (127.0.0.1, backlog 7, SO_REUSEADDR, keepalive 33/7/4, TCP_NODELAY, SO_LINGER 1/5, SO_RCVBUF,
 *                    O_NONBLOCK), an IPv6 listener ([::1], IPV6_V6ONLY, SO_REUSEPORT), a TCP socket bound and not
 *                    listening, an unbound TCP socket (TCP_NODELAY), a UDP server on 127.0.0.1 and one on [::1] (both
 *                    echo every datagram from the main loop), a UDP socket connected to the IPv4 server. The main loop
 *                    also answers every connection to either listener with "hello PID\n" and closes it. READY names
 *                    the ports: tcp4= tcp6= bound= udp= udp6=. SIGUSR2 checks names, options, flags and round trips.
 *   echo [reuseport] a TCP server on 127.0.0.1 (READY port=; SO_REUSEADDR, and SO_REUSEPORT if asked) serving one
 *                    client at a time: for each line "REQ n" it answers "RESP n". SIGUSR2 reports how many requests
 *                    it served.
 *   hold N           like echo, but on accepting a client it writes 60000 pattern bytes (i % 251) and reads nothing
 *                    until SIGUSR1; then it reads N bytes, checks them against the pattern (i % 239) and prints
 *                    "GOT N ok" or "GOT k bad at i".
 *   pair             a connection with both ends in this process (connected to its own listener): each end has
 *                    unread data from the other (40000 bytes one way, 30000 the other); SIGUSR2 reads and checks both
 *                    and makes one more round trip.
 */
#include "workload.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

static volatile sig_atomic_t release_requested;
static void on_release(int sig) {
    (void) sig;
    release_requested = 1;
}

static int opt(int fd, int level, int name) {
    int v = -1;
    socklen_t l = sizeof v;
    if (getsockopt(fd, level, name, &v, &l) != 0) return -1;
    return v;
}

static void setopt(int fd, int level, int name, int v) {
    if (setsockopt(fd, level, name, &v, sizeof v) != 0) die("setsockopt");
}

static int port_of(int fd) {
    struct sockaddr_storage ss;
    socklen_t l = sizeof ss;
    if (getsockname(fd, (struct sockaddr *) &ss, &l) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *) &ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
    return -2;
}

static int tcp4(int port, int listen_backlog) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *) &a, sizeof a) != 0) die("bind tcp4");
    if (listen_backlog > 0 && listen(fd, listen_backlog) != 0) die("listen");
    return fd;
}

static int udp4(void) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof a) != 0) die("udp4");
    return fd;
}

static int udp6(void) {
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof a) != 0) die("udp6");
    return fd;
}

/* Echoes every datagram waiting on fd. */
static void echo_datagrams(int fd) {
    char buf[2048];
    struct sockaddr_storage from;
    for (;;) {
        socklen_t l = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *) &from, &l);
        if (n < 0) return;
        sendto(fd, buf, (size_t) n, 0, (struct sockaddr *) &from, l);
    }
}

/* Answers every waiting connection with "hello PID\n". */
static void greet(int listener) {
    for (;;) {
        int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) return;
        char msg[64];
        int n = snprintf(msg, sizeof msg, "hello %d\n", (int) real_getpid());
        if (write(c, msg, (size_t) n) < 0) { /* the client left */ }
        close(c);
    }
}

__attribute__((noreturn)) static void mode_kinds(void) {
    int l4 = tcp4(0, 7);
    struct linger lg = {1, 5};
    if (setsockopt(l4, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) != 0) die("SO_LINGER");
    setopt(l4, SOL_SOCKET, SO_KEEPALIVE, 1);
    setopt(l4, IPPROTO_TCP, TCP_KEEPIDLE, 33);
    setopt(l4, IPPROTO_TCP, TCP_KEEPINTVL, 7);
    setopt(l4, IPPROTO_TCP, TCP_KEEPCNT, 4);
    setopt(l4, IPPROTO_TCP, TCP_NODELAY, 1);
    setopt(l4, SOL_SOCKET, SO_RCVBUF, 65536);
    fcntl(l4, F_SETFL, O_NONBLOCK);
    int rcvbuf = opt(l4, SOL_SOCKET, SO_RCVBUF);

    int l6 = socket(AF_INET6, SOCK_STREAM, 0);
    setopt(l6, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    setopt(l6, SOL_SOCKET, SO_REUSEPORT, 1);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    if (bind(l6, (struct sockaddr *) &a6, sizeof a6) != 0 || listen(l6, 3) != 0) die("tcp6");
    fcntl(l6, F_SETFL, O_NONBLOCK);

    int bound = tcp4(0, 0);
    int unbound = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setopt(unbound, IPPROTO_TCP, TCP_NODELAY, 1);
    int us = udp4();
    fcntl(us, F_SETFL, O_NONBLOCK);
    int us6 = udp6();
    fcntl(us6, F_SETFL, O_NONBLOCK);
    int uc = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    getsockname(us, (struct sockaddr *) &sa, &sl);
    if (connect(uc, (struct sockaddr *) &sa, sizeof sa) != 0) die("connect udp");
    int ports[7] = {port_of(l4), port_of(l6), port_of(bound), port_of(unbound), port_of(us), port_of(us6), port_of(uc)};
    say("READY pid=%d tcp4=%d tcp6=%d bound=%d udp=%d udp6=%d udpc=%d", (int) real_getpid(), ports[0], ports[1],
        ports[2], ports[4], ports[5], ports[6]);
    install(SIGUSR2, on_verify_signal);
    for (long tick = 1;; tick++) {
        if (tick % 10 == 0) say("tick %ld", tick / 10);
        greet(l4);
        greet(l6);
        echo_datagrams(us);
        echo_datagrams(us6);
        sleep_ms(10);
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;
        struct verdict v = {0};
        int now[7] = {port_of(l4), port_of(l6), port_of(bound), port_of(unbound), port_of(us), port_of(us6),
                      port_of(uc)};
        for (int i = 0; i < 7; i++)
            if (now[i] != ports[i]) fail(&v, "port %d of socket %d now %d", ports[i], i, now[i]);
        if (opt(l4, SOL_SOCKET, SO_ACCEPTCONN) != 1) fail(&v, "tcp4 not listening");
        if (opt(l6, SOL_SOCKET, SO_ACCEPTCONN) != 1) fail(&v, "tcp6 not listening");
        if (opt(bound, SOL_SOCKET, SO_ACCEPTCONN) != 0) fail(&v, "bound socket listens");
        if (opt(l4, SOL_SOCKET, SO_REUSEADDR) != 1) fail(&v, "SO_REUSEADDR");
        if (opt(l4, SOL_SOCKET, SO_KEEPALIVE) != 1) fail(&v, "SO_KEEPALIVE");
        if (opt(l4, IPPROTO_TCP, TCP_KEEPIDLE) != 33) fail(&v, "TCP_KEEPIDLE %d", opt(l4, IPPROTO_TCP, TCP_KEEPIDLE));
        if (opt(l4, IPPROTO_TCP, TCP_KEEPINTVL) != 7) fail(&v, "TCP_KEEPINTVL");
        if (opt(l4, IPPROTO_TCP, TCP_KEEPCNT) != 4) fail(&v, "TCP_KEEPCNT");
        if (opt(l4, IPPROTO_TCP, TCP_NODELAY) != 1) fail(&v, "TCP_NODELAY");
        if (opt(unbound, IPPROTO_TCP, TCP_NODELAY) != 1) fail(&v, "TCP_NODELAY of the unbound socket");
        if (opt(l4, SOL_SOCKET, SO_RCVBUF) != rcvbuf) fail(&v, "SO_RCVBUF %d, was %d", opt(l4, SOL_SOCKET, SO_RCVBUF), rcvbuf);
        struct linger lnow = {0, 0};
        socklen_t ll = sizeof lnow;
        getsockopt(l4, SOL_SOCKET, SO_LINGER, &lnow, &ll);
        if (lnow.l_onoff != 1 || lnow.l_linger != 5) fail(&v, "SO_LINGER %d/%d", lnow.l_onoff, lnow.l_linger);
        if (opt(l6, IPPROTO_IPV6, IPV6_V6ONLY) != 1) fail(&v, "IPV6_V6ONLY");
        if (opt(l6, SOL_SOCKET, SO_REUSEPORT) != 1) fail(&v, "SO_REUSEPORT");
        if (!(fcntl(l4, F_GETFL) & O_NONBLOCK)) fail(&v, "O_NONBLOCK of tcp4");
        if (fcntl(bound, F_GETFL) & O_NONBLOCK) fail(&v, "O_NONBLOCK on the bound socket");
        if (!(fcntl(unbound, F_GETFD) & FD_CLOEXEC)) fail(&v, "FD_CLOEXEC of the unbound socket");
        if (fcntl(bound, F_GETFD) & FD_CLOEXEC) fail(&v, "FD_CLOEXEC on the bound socket");
        struct sockaddr_in peer;
        socklen_t pl = sizeof peer;
        if (getpeername(uc, (struct sockaddr *) &peer, &pl) != 0 || peer.sin_port != sa.sin_port)
            fail(&v, "udp client not connected to the server");
        /* a round trip through the connected UDP socket and the server */
        if (send(uc, "ping", 4, 0) != 4) fail(&v, "send udp: %s", strerror(errno));
        struct pollfd p = {us, POLLIN, 0};
        poll(&p, 1, 2000);
        echo_datagrams(us);
        char buf[16] = {0};
        p.fd = uc;
        poll(&p, 1, 2000);
        if (recv(uc, buf, sizeof buf, MSG_DONTWAIT) != 4 || memcmp(buf, "ping", 4) != 0) fail(&v, "udp echo");
        /* a new connection to the IPv4 listener */
        int c = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in la = {.sin_family = AF_INET, .sin_port = htons(ports[0]), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (connect(c, (struct sockaddr *) &la, sizeof la) != 0) fail(&v, "connect tcp4: %s", strerror(errno));
        p.fd = l4;
        p.events = POLLIN;
        poll(&p, 1, 2000);
        int s = accept(l4, NULL, NULL);
        if (s < 0) fail(&v, "accept tcp4: %s", strerror(errno));
        else if (opt(s, IPPROTO_TCP, TCP_NODELAY) != 1) fail(&v, "accepted socket lacks TCP_NODELAY");
        if (s >= 0) close(s);
        close(c);
        report(&v, "inet sockets");
    }
}

static int read_line(int fd, char *line, size_t max) {
    size_t n = 0;
    while (n + 1 < max) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        if (ch == '\n') break;
        line[n++] = ch;
    }
    line[n] = 0;
    return (int) n;
}

static int mode_echo(int hold, long expect, int reuseport) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    setopt(l, SOL_SOCKET, SO_REUSEADDR, 1);
    if (reuseport) setopt(l, SOL_SOCKET, SO_REUSEPORT, 1);
    struct sockaddr_in la = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (l < 0 || bind(l, (struct sockaddr *) &la, sizeof la) != 0 || listen(l, 4) != 0) die("echo listener");
    say("READY pid=%d port=%d", (int) real_getpid(), port_of(l));
    install(SIGUSR2, on_verify_signal);
    install(SIGUSR1, on_release);
    long served = 0;
    for (long tick = 1;; tick++) {
        struct pollfd p = {l, POLLIN, 0};
        int r = poll(&p, 1, 100);
        if (wl_verify_requested) {
            wl_verify_requested = 0;
            say("VERDICT PASS served=%ld", served);
        }
        if (tick % 10 == 0) say("tick %ld", tick / 10);
        if (r <= 0) continue;
        int c = accept(l, NULL, NULL);
        if (c < 0) continue;
        say("accepted");
        if (hold) {
            static unsigned char out[60000];
            for (int i = 0; i < (int) sizeof out; i++) out[i] = (unsigned char) (i % 251);
            size_t off = 0;
            while (off < sizeof out) {
                ssize_t w = write(c, out + off, sizeof out - off);
                if (w <= 0) die("hold write");
                off += (size_t) w;
            }
            say("HELD wrote=%zu", sizeof out);
            while (!release_requested) {
                if (wl_verify_requested) {
                    wl_verify_requested = 0;
                    say("VERDICT PASS holding");
                }
                sleep_ms(20);
            }
            long got = 0;
            unsigned char buf[4096];
            while (got < expect) {
                ssize_t n = read(c, buf, sizeof buf);
                if (n <= 0) break;
                for (ssize_t i = 0; i < n; i++) {
                    if (buf[i] != (unsigned char) ((got + i) % 239)) {
                        say("GOT %ld bad at %ld", got + i, got + i);
                        return 1;
                    }
                }
                got += n;
            }
            say("GOT %ld %s", got, got == expect ? "ok" : "short");
            close(c);
            continue;
        }
        char line[256];
        while (read_line(c, line, sizeof line) >= 0) {
            long n;
            if (sscanf(line, "REQ %ld", &n) != 1) break;
            char out[64];
            int k = snprintf(out, sizeof out, "RESP %ld\n", n);
            if (write(c, out, (size_t) k) != k) break;
            served++;
            if (wl_verify_requested) {
                wl_verify_requested = 0;
                say("VERDICT PASS served=%ld", served);
            }
        }
        close(c);
        say("closed served=%ld", served);
    }
}

static int fill(int fd, int len, int mod) {
    unsigned char buf[4096];
    int off = 0;
    while (off < len) {
        int n = len - off < (int) sizeof buf ? len - off : (int) sizeof buf;
        for (int i = 0; i < n; i++) buf[i] = (unsigned char) ((off + i) % mod);
        ssize_t w = write(fd, buf, (size_t) n);
        if (w <= 0) return -1;
        off += (int) w;
    }
    return 0;
}

static const char *drain(int fd, int len, int mod) {
    unsigned char buf[4096];
    int got = 0;
    struct pollfd p = {fd, POLLIN, 0};
    while (got < len) {
        if (poll(&p, 1, 5000) <= 0) return "timeout";
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) return "eof or error";
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != (unsigned char) ((got + i) % mod)) return "pattern mismatch";
        got += (int) n;
    }
    if (recv(fd, buf, 1, MSG_DONTWAIT) > 0) return "more bytes than sent";
    return NULL;
}

__attribute__((noreturn)) static void mode_pair(void) {
    int l = tcp4(0, 2);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port_of(l)), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(c, (struct sockaddr *) &a, sizeof a) != 0) die("connect");
    int s = accept(l, NULL, NULL);
    if (s < 0) die("accept");
    if (fill(c, 40000, 241) != 0 || fill(s, 30000, 233) != 0) die("fill");
    say("READY pid=%d port=%d client=%d server=%d", (int) real_getpid(), port_of(l), c, s);
    install(SIGUSR2, on_verify_signal);
    int rounds = 0;
    for (long tick = 1;; tick++) {
        say("tick %ld", tick);
        sleep_ms(100);
        if (!wl_verify_requested) continue;
        wl_verify_requested = 0;
        struct verdict v = {0};
        const char *e;
        if (rounds == 0) {
            if ((e = drain(s, 40000, 241)) != NULL) fail(&v, "server end: %s", e);
            if ((e = drain(c, 30000, 233)) != NULL) fail(&v, "client end: %s", e);
        }
        rounds++;
        if (write(c, "", 1) != 1 || (e = drain(s, 1, 256)) != NULL) fail(&v, "round trip c->s: %s", e ? e : "write");
        report(&v, "pair");
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s WORKDIR [kinds|echo|hold N|pair]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    const char *mode = argc > 2 ? argv[2] : "kinds";
    if (strcmp(mode, "echo") == 0) return mode_echo(0, 0, argc > 3 && strcmp(argv[3], "reuseport") == 0);
    if (strcmp(mode, "hold") == 0) return mode_echo(1, argc > 3 ? atol(argv[3]) : 0, 0);
    if (strcmp(mode, "pair") == 0) mode_pair();
    mode_kinds();
}
