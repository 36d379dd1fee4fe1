package dev.cryo.plugin.unixsocket;

/**
 * The x86_64 system call numbers and socket constants this plugin injects. Plugins cannot see core's Linux layer,
 * so the constants needed live here.
 */
final class SocketCalls {
    static final int SYS_CLOSE = 3;
    static final int SYS_MMAP = 9;
    static final int SYS_MUNMAP = 11;
    static final int SYS_SOCKET = 41;
    static final int SYS_CONNECT = 42;
    static final int SYS_SENDTO = 44;
    static final int SYS_RECVMSG = 47;
    static final int SYS_SHUTDOWN = 48;
    static final int SYS_BIND = 49;
    static final int SYS_LISTEN = 50;
    static final int SYS_SOCKETPAIR = 53;
    static final int SYS_SETSOCKOPT = 54;
    static final int SYS_GETSOCKOPT = 55;
    static final int SYS_FCNTL = 72;
    static final int SYS_CHDIR = 80;
    static final int SYS_UNLINK = 87;
    static final int SYS_ACCEPT4 = 288;
    static final int SYS_DUP3 = 292;

    static final int AF_UNIX = 1;
    static final int SOCK_STREAM = 1;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_SEQPACKET = 5;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int SOCK_NONBLOCK = 04000;

    static final int TCP_ESTABLISHED = 1;
    static final int TCP_CLOSE = 7;
    static final int TCP_LISTEN = 10;

    static final int SOL_SOCKET = 1;
    static final int SO_SNDBUF = 7;
    static final int SO_RCVBUF = 8;
    static final int SO_PASSCRED = 16;
    static final int SO_SNDBUFFORCE = 32;
    static final int SO_RCVBUFFORCE = 33;
    static final int SO_PASSSEC = 34;
    static final int SO_PEEK_OFF = 42;

    static final int MSG_PEEK = 0x2;
    static final int MSG_TRUNC = 0x20;
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_NOSIGNAL = 0x4000;

    static final int F_GETFL = 3;
    static final int F_SETFL = 4;
    static final int O_NONBLOCK = 04000;

    static final int RCV_SHUTDOWN = 1;
    static final int SEND_SHUTDOWN = 2;

    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_PRIVATE = 0x02;
    static final int MAP_ANONYMOUS = 0x20;

    static final int EAGAIN = 11;

    private SocketCalls() {
    }

    static String typeName(int type) {
        return switch (type) {
            case SOCK_STREAM -> "stream";
            case SOCK_DGRAM -> "dgram";
            case SOCK_SEQPACKET -> "seqpacket";
            default -> "type " + type;
        };
    }

    static String stateName(int state) {
        return switch (state) {
            case TCP_ESTABLISHED -> "connected";
            case TCP_CLOSE -> "unconnected";
            case TCP_LISTEN -> "listening";
            default -> "state " + state;
        };
    }
}
