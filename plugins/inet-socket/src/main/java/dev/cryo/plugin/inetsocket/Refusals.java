package dev.cryo.plugin.inetsocket;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.FdHolder;

import java.util.List;

/**
 * Every refusal of this plugin, in one place so that each message is written (and unit-tested) once: what failed and
 * on what — pid and name, fd, addresses, state — then the fix.
 */
final class Refusals {
    static final String TCP_ESTABLISHED = "tcp-established";
    static final String TCP_CLOSE = "tcp-close";
    static final String SKIP_IN_FLIGHT = "skip-in-flight";

    private Refusals() {
    }

    /** {@code TCP connection 127.0.0.1:8080 -> 127.0.0.1:51234 (ESTABLISHED)} */
    static String connection(String tcp, InetAddr local, InetAddr peer, String state) {
        return tcp + " connection " + local + " -> " + peer + " (" + state + ")";
    }

    /** A connected TCP socket without --tcp-established / --tcp-close. */
    static CryoException established(String holder, String tcp, InetAddr local, InetAddr peer, String state) {
        return new CryoException(Category.UNSUPPORTED, "inet-socket/ESTABLISHED", "dump refused: " + holder + " is a "
                + connection(tcp, local, peer, state) + "; keeping it needs its sequence numbers and queues"
                + " (TCP_REPAIR)", "pass --" + TCP_ESTABLISHED + " on dump and restore to keep the connection (the peer"
                + " sees no break), or --" + TCP_CLOSE + " to restore it as a closed socket");
    }

    /** A connection in a state --tcp-established does not keep (closing, half-closed, connecting). */
    static CryoException stateNotKept(String holder, String tcp, InetAddr local, InetAddr peer, String state) {
        return new CryoException(Category.UNSUPPORTED, "inet-socket/TCP_STATE", "dump refused: " + holder + " is a "
                + connection(tcp, local, peer, state) + "; --" + TCP_ESTABLISHED + " keeps ESTABLISHED connections"
                + " only", "let the connection " + (state.equals("SYN_SENT") ? "finish connecting" : "finish closing")
                + " and dump again, or pass --" + TCP_CLOSE + " to restore it as a closed socket");
    }

    /** Connections the kernel accepted on a listener and the program did not. */
    static CryoException inFlight(String holder, String tcp, InetAddr local, long count) {
        return new CryoException(Category.UNSUPPORTED, "inet-socket/IN_FLIGHT", "dump refused: " + holder + " is a "
                + tcp + " listener on " + local + " with " + count + " connection" + (count == 1 ? "" : "s")
                + " accepted by the kernel and not yet by the program; cryo cannot put a connection back into an"
                + " accept queue", "let the program accept " + (count == 1 ? "it" : "them") + " and dump again, or"
                + " pass --" + SKIP_IN_FLIGHT + " to drop " + (count == 1 ? "it" : "them") + " ("
                + (count == 1 ? "its client sees" : "their clients see") + " a reset and may retry)");
    }

    /** A protocol this plugin does not handle (raw, SCTP, MPTCP, UDP-Lite...). */
    static CryoException protocol(String holder, int family, int type, int protocol) {
        return new CryoException(Category.UNSUPPORTED, "inet-socket/PROTOCOL", "dump refused: " + holder + " is an "
                + (family == InetAddr.AF_INET6 ? "inet6" : "inet") + " socket of type " + type + " and protocol "
                + protocol + " (" + protocolName(protocol) + "); the inet-socket plugin keeps TCP and UDP sockets only",
                "close the socket before dumping, or install a plugin that handles " + protocolName(protocol)
                        + " sockets");
    }

    static String protocolName(int protocol) {
        return switch (protocol) {
            case 1 -> "ICMP";
            case 58 -> "ICMPv6";
            case 132 -> "SCTP";
            case 136 -> "UDP-Lite";
            case 255 -> "raw";
            case 262 -> "MPTCP";
            case 6 -> "TCP";
            case 17 -> "UDP";
            default -> "protocol " + protocol;
        };
    }

    /**
     * At restore: an address a socket of the image binds is held by a live socket.
     *
     * @param what     e.g. {@code TCP listener 127.0.0.1:8080 (pid 812 "nginx" fd 6 at dump)}
     * @param held     the live socket's address and state, e.g. {@code 0.0.0.0:8080 (LISTEN)}
     * @param holders  the processes holding it
     * @param lockNote empty, or what to do about the network lock when giving up
     */
    static CryoException addressTaken(String what, InetAddr addr, String held, long ino, List<FdHolder> holders,
                                      String lockNote) {
        return addressTaken(what, addr, held, ino, holders, lockNote, true);
    }

    /**
     * @param beforeCreation true: found by the check before any process exists (the lock stays, see
     *                       {@code lockNote}); false: bind failed in a restored process (the restore fails, its
     *                       processes are killed and the lock is lifted)
     */
    static CryoException addressTaken(String what, InetAddr addr, String held, long ino, List<FdHolder> holders,
                                      String lockNote, boolean beforeCreation) {
        String who = holders.isEmpty() ? "held by no process (socket ino " + ino + ")"
                : "held by " + holders.get(0) + (holders.size() > 1 ? " and " + (holders.size() - 1) + " more fd"
                        + (holders.size() > 2 ? "s" : "") : "") + " (socket ino " + ino + ")";
        String stop = holders.isEmpty() ? "wait until socket ino " + ino + " is gone"
                : "stop pid " + holders.get(0).pid() + " \"" + holders.get(0).comm() + "\"";
        return new CryoException(Category.CONFLICT, "inet-socket/ADDRESS_IN_USE", (beforeCreation
                ? "restore refused: " : "restore failed: ") + what + " cannot bind " + addr + ": " + held + " is " + who
                + (beforeCreation ? "; nothing was created" : "; the restored processes are killed and the network"
                + " lock, if any, is lifted"),
                stop + " (or free port " + addr.port() + ") and restore again" + (beforeCreation ? lockNote : ""));
    }

    /** At restore: established connections in the image and neither option given. */
    static CryoException needsOption(int count, String first, String lockNote) {
        return new CryoException(Category.USAGE, "inet-socket/TCP_ESTABLISHED_OPTION", "restore refused: the image"
                + " holds " + count + " established TCP connection" + (count == 1 ? "" : "s") + " dumped with --"
                + TCP_ESTABLISHED + " (" + first + (count > 1 ? ", ..." : "") + "); nothing was created",
                "pass --" + TCP_ESTABLISHED + " to restore " + (count == 1 ? "it" : "them") + " (or --" + TCP_CLOSE
                        + " to restore " + (count == 1 ? "it" : "them") + " as closed sockets)" + lockNote);
    }

    /** At restore: connections dumped with --tcp-close and the option not given again. */
    static CryoException needsTcpClose(int count, String first) {
        return new CryoException(Category.USAGE, "inet-socket/TCP_CLOSE_OPTION", "restore refused: the image holds "
                + count + " TCP connection" + (count == 1 ? "" : "s") + " dumped with --" + TCP_CLOSE + " (" + first
                + (count > 1 ? ", ..." : "") + "), restored as closed sockets only with the option given again;"
                + " nothing was created", "pass --" + TCP_CLOSE + " to restore");
    }

    /** The note appended to a restore refusal when network locks of the image are in place. */
    static String lockNote(List<String> tables) {
        if (tables.isEmpty()) {
            return "";
        }
        return "; meanwhile the network lock (nftables table inet " + String.join(", inet ", tables) + ") keeps the"
                + " dumped connections waiting: to give them up, `" + NetworkLock.removeCommand(tables) + "`";
    }
}
