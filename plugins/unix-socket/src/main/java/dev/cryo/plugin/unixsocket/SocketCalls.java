package dev.cryo.plugin.unixsocket;

import dev.cryo.api.UnixSocketInfo;

/**
 * The socket constants this plugin passes to the system calls it injects (calls are named with
 * {@link dev.cryo.api.Syscall}); the open flags, fcntl commands and protections every plugin uses are
 * {@link dev.cryo.api.SyscallFlags}.
 */
final class SocketCalls {

    static final int AF_UNIX = 1;
    static final int SOCK_STREAM = UnixSocketInfo.SOCK_STREAM;
    static final int SOCK_DGRAM = UnixSocketInfo.SOCK_DGRAM;
    static final int SOCK_SEQPACKET = UnixSocketInfo.SOCK_SEQPACKET;
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

    static final int RCV_SHUTDOWN = 1;
    static final int SEND_SHUTDOWN = 2;

    static final int AT_SYMLINK_NOFOLLOW = 0x100;

    static final int EAGAIN = 11;
    static final int ECONNRESET = 104;

    static final int POLLIN = 0x1;
    static final int POLLERR = 0x8;

    private SocketCalls() {
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
