package dev.cryo.api;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SockDiagMessagesTest {
    @Test
    void aDumpRequestHasItsHeaderAndRoomForTheStruct() {
        ByteBuffer b = SockDiagMessages.dumpRequest(24);
        assertEquals(16, b.position());
        assertEquals(40, b.capacity());
        assertEquals(40, b.getInt(0));                       // nlmsg_len
        assertEquals(20, b.getShort(4));                     // SOCK_DIAG_BY_FAMILY
        assertEquals(0x301, b.getShort(6));                  // NLM_F_REQUEST | NLM_F_DUMP
        assertEquals(0L, b.getLong(8));                      // seq, pid
    }

    @Test
    void theCursorVisitsEachAttributeWithItsPaddingAndStripsTheFlagBits() {
        ByteBuffer b = message(16 + 8 + 8 + 8);
        b.putShort(24, (short) 5).putShort(26, (short) (0x8000 | 3)).put(28, (byte) 7);   // 1 byte + 3 padding
        b.putShort(32, (short) 8).putShort(34, (short) 4).putInt(36, 4711);
        List<String> seen = new ArrayList<>();
        SockDiagMessages.Attributes a = SockDiagMessages.attributes(b, 24);
        while (a.next()) {
            seen.add(a.type() + "@" + a.payload() + "+" + a.length());
        }
        assertEquals(List.of("3@28+1", "4@36+4"), seen);
        assertFalse(a.malformed());
    }

    @Test
    void theCursorStopsAtAnAttributePastTheEndOfTheMessage() {
        ByteBuffer b = message(16 + 8 + 8);
        b.putShort(24, (short) 12).putShort(26, (short) 1);  // says 12, only 8 left
        SockDiagMessages.Attributes a = SockDiagMessages.attributes(b, 24);
        assertFalse(a.next());
        assertTrue(a.malformed());
        assertEquals(24, a.offset());
        assertEquals(12, a.rawLength());
    }

    @Test
    void theMessageEndsAtItsLengthNotAtTheBuffersEnd() {
        ByteBuffer b = message(16 + 8 + 8);
        b.putInt(0, 24);                                     // nlmsg_len: no attribute
        b.putShort(24, (short) 8).putShort(26, (short) 1);
        assertFalse(SockDiagMessages.attributes(b, 24).next());
    }

    private static ByteBuffer message(int len) {
        return ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN).putInt(0, len);
    }
}
