package dev.cryo.plugin.inetsocket;

import org.junit.jupiter.api.Test;

import static dev.cryo.plugin.inetsocket.InetRebuilder.Conflicts.overlaps;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConflictsTest {
    static final InetAddr LO4 = new InetAddr(2, new byte[] {127, 0, 0, 1}, 80, 0);
    static final InetAddr OTHER4 = new InetAddr(2, new byte[] {127, 0, 0, 2}, 80, 0);
    static final InetAddr ANY4 = InetAddr.any(2);
    static final InetAddr ANY6 = InetAddr.any(10);

    @Test
    void wildcardsAndDualStack() {
        assertTrue(overlaps(LO4, false, LO4, false));
        assertFalse(overlaps(LO4, false, OTHER4, false));
        assertTrue(overlaps(LO4, false, ANY4, false));
        assertTrue(overlaps(LO4, false, ANY6, false), "a dual-stack [::] covers IPv4");
        assertFalse(overlaps(LO4, false, ANY6, true), "an IPV6_V6ONLY [::] does not");
        byte[] one = new byte[16];
        one[15] = 1;
        assertFalse(overlaps(new InetAddr(10, one, 80, 0), false, LO4, false), "::1 and 127.0.0.1");
    }
}
