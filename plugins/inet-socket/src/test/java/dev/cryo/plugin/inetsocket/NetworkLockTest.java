package dev.cryo.plugin.inetsocket;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetworkLockTest {
    static InetAddr v4(int port) {
        return new InetAddr(2, new byte[] {127, 0, 0, 1}, port, 0);
    }

    @Test
    void scriptDropsBothDirectionsInBothHooks() {
        String s = NetworkLock.lockScript("cryo_lock_7_x", "a \"quoted\" comment", List.of(
                new NetworkLock.Tuple(v4(8080), v4(5000)), new NetworkLock.Tuple(v4(5000), v4(8080))));
        assertTrue(s.startsWith("add table inet cryo_lock_7_x { comment \"a 'quoted' comment\" ; }\n"), s);
        assertTrue(s.contains("add chain inet cryo_lock_7_x input { type filter hook input priority -300 ;"), s);
        assertTrue(s.contains("add chain inet cryo_lock_7_x output { type filter hook output priority -300 ;"), s);
        String ab = "ip saddr 127.0.0.1 ip daddr 127.0.0.1 tcp sport 8080 tcp dport 5000 drop";
        String ba = "ip saddr 127.0.0.1 ip daddr 127.0.0.1 tcp sport 5000 tcp dport 8080 drop";
        for (String hook : List.of("input ", "output ")) {
            assertTrue(s.contains("add rule inet cryo_lock_7_x " + hook + ab), s);
            assertTrue(s.contains("add rule inet cryo_lock_7_x " + hook + ba), s);
        }
        // the two ends of one connection inside the tree give the same rules once
        assertEquals(4, s.lines().filter(l -> l.startsWith("add rule")).count(), s);
    }

    @Test
    void ipv6AndMappedAddresses() {
        byte[] one = new byte[16];
        one[15] = 1;
        assertEquals("ip6 saddr ::1 ip6 daddr ::1 tcp sport 1 tcp dport 2",
                NetworkLock.match(new InetAddr(10, one, 1, 0), new InetAddr(10, one, 2, 0)));
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 127;
        mapped[15] = 1;
        String s = NetworkLock.lockScript("t", "c", List.of(new NetworkLock.Tuple(new InetAddr(10, mapped, 1, 0),
                new InetAddr(10, mapped, 2, 0))));
        assertTrue(s.contains("ip saddr 127.0.0.1 ip daddr 127.0.0.1 tcp sport 1 tcp dport 2"), s);
        String longComment = "x".repeat(300);
        assertTrue(NetworkLock.lockScript("t", longComment, List.of()).contains("\"" + "x".repeat(128) + "\""));
    }

    @Test
    void namesAndTheManualCommand() {
        assertEquals("cryo_lock_812_" + Long.toString(1000, 36), NetworkLock.tableName(812, 1000));
        assertEquals("nft delete table inet a; nft delete table inet b", NetworkLock.removeCommand(List.of("a", "b")));
    }
}
