package dev.cryo.plugin.externalunixsocket;

import dev.cryo.api.CryoException;
import dev.cryo.api.HostKernel;
import dev.cryo.api.UnixSocketInfo;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The AF_UNIX sockets of cryo's network namespace, by inode, from core's host view
 * ({@link HostKernel#unixSockets()}, read once per command), with the lookups the peer classification needs.
 * Immutable.
 */
final class ProcNetUnix {
    static final int SOCK_STREAM = UnixSocketInfo.SOCK_STREAM;
    static final int SOCK_DGRAM = UnixSocketInfo.SOCK_DGRAM;
    static final int SOCK_SEQPACKET = UnixSocketInfo.SOCK_SEQPACKET;

    private final Map<Long, UnixSocketInfo> byIno = new LinkedHashMap<>();

    ProcNetUnix(List<UnixSocketInfo> sockets) {
        sockets.forEach(s -> byIno.put(s.ino(), s));
    }

    static ProcNetUnix of(HostKernel kernel) throws CryoException {
        return new ProcNetUnix(kernel.unixSockets());
    }

    Optional<UnixSocketInfo> get(long ino) {
        return Optional.ofNullable(byIno.get(ino));
    }

    Collection<UnixSocketInfo> all() {
        return byIno.values();
    }

    /** @return a listening socket of {@code type} bound to {@code name}, other than {@code except} */
    Optional<UnixSocketInfo> listenerAt(byte[] name, int type, long except) {
        if (name.length == 0) {
            return Optional.empty();
        }
        for (UnixSocketInfo s : byIno.values()) {
            if (s.listening() && s.type() == type && s.ino() != except && s.hasName(name)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** @return a socket of {@code type} bound to {@code name} (a datagram server, or a listener) */
    Optional<UnixSocketInfo> boundAt(byte[] name, int type) {
        for (UnixSocketInfo s : byIno.values()) {
            if (s.type() == type && s.hasName(name) && (type == SOCK_DGRAM || s.listening())) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}
