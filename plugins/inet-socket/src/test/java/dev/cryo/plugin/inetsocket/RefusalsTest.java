package dev.cryo.plugin.inetsocket;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdHolder;
import dev.cryo.api.Pid;
import dev.cryo.api.TargetFd;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every refusal names what a person needs: pid and name, fd, addresses, state, the option or the holder. */
class RefusalsTest {
    static final InetAddr LOCAL = new InetAddr(2, new byte[] {127, 0, 0, 1}, 8080, 0);
    static final InetAddr PEER = new InetAddr(2, new byte[] {127, 0, 0, 1}, 51234, 0);
    static final String HOLDER = "fd 5 of pid 812 \"nginx\"";

    static void mentions(CryoException e, String... parts) {
        String all = e.render();
        for (String p : parts) {
            assertTrue(all.contains(p), "'" + p + "' missing from:\n" + all);
        }
    }

    @Test
    void established() {
        CryoException e = Refusals.established(HOLDER, "TCP", LOCAL, PEER, "ESTABLISHED");
        assertEquals(CryoException.Category.UNSUPPORTED, e.category());
        mentions(e, "dump refused: fd 5 of pid 812 \"nginx\"", "127.0.0.1:8080 -> 127.0.0.1:51234 (ESTABLISHED)",
                "Fix: pass --tcp-established on dump and restore", "--tcp-close", "[inet-socket/ESTABLISHED]");
    }

    @Test
    void stateNotKept() {
        mentions(Refusals.stateNotKept(HOLDER, "TCP", LOCAL, PEER, "CLOSE_WAIT"), "(CLOSE_WAIT)",
                "keeps ESTABLISHED connections only", "finish closing", "--tcp-close", "[inet-socket/TCP_STATE]");
        mentions(Refusals.stateNotKept(HOLDER, "TCP", LOCAL, PEER, "SYN_SENT"), "finish connecting");
    }

    @Test
    void inFlight() {
        mentions(Refusals.inFlight(HOLDER, "TCP", LOCAL, 2), "TCP listener on 127.0.0.1:8080 with 2 connections",
                "not yet by the program", "--skip-in-flight", "their clients see a reset", "[inet-socket/IN_FLIGHT]");
        mentions(Refusals.inFlight(HOLDER, "TCP", LOCAL, 1), "1 connection accepted", "its client sees");
    }

    @Test
    void protocol() {
        mentions(Refusals.protocol(HOLDER, 10, 3, 58), "inet6 socket of type 3 and protocol 58 (ICMPv6)",
                "TCP and UDP sockets only", "[inet-socket/PROTOCOL]");
    }

    @Test
    void addressTakenNamesAddressPortAndHolder() {
        CryoException e = Refusals.addressTaken("TCP listener 127.0.0.1:8080 (pid 812 \"nginx\" fd 6 at dump)", LOCAL,
                "0.0.0.0:8080 (LISTEN)", 777, List.of(new FdHolder(Pid.of(99), "python3", TargetFd.of(3), 2)), "");
        assertEquals(CryoException.Category.CONFLICT, e.category());
        mentions(e, "restore refused: TCP listener 127.0.0.1:8080 (pid 812 \"nginx\" fd 6 at dump) cannot bind"
                + " 127.0.0.1:8080: 0.0.0.0:8080 (LISTEN) is held by pid 99 \"python3\" fd 3 (socket ino 777);"
                + " nothing was created", "Fix: stop pid 99 \"python3\" (or free port 8080)",
                "[inet-socket/ADDRESS_IN_USE]");
        mentions(Refusals.addressTaken("x", LOCAL, "y", 5, List.of(), ""), "held by no process (socket ino 5)");
        CryoException late = Refusals.addressTaken("x", LOCAL, "y", 5, List.of(), "; lock", false);
        mentions(late, "restore failed: x cannot bind", "the restored processes are killed");
        assertTrue(!late.render().contains("; lock") && !late.render().contains("nothing was created"), late.render());
    }

    @Test
    void restoreOptionsAndTheLockNote() {
        String note = Refusals.lockNote(List.of("cryo_lock_1_a"));
        mentions(Refusals.needsOption(2, "TCP connection a -> b", note), "2 established TCP connections",
                "--tcp-established", "--tcp-close", "nftables table inet cryo_lock_1_a",
                "nft delete table inet cryo_lock_1_a", "[inet-socket/TCP_ESTABLISHED_OPTION]");
        mentions(Refusals.needsTcpClose(1, "c"), "dumped with --tcp-close", "[inet-socket/TCP_CLOSE_OPTION]");
        assertEquals("", Refusals.lockNote(List.of()));
    }
}
