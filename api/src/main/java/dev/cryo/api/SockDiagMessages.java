package dev.cryo.api;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The framing of {@code NETLINK_SOCK_DIAG} messages that every socket plugin asking
 * {@link HostKernel#netlink(int, byte[])} needs: the {@code nlmsghdr} of a {@code SOCK_DIAG_BY_FAMILY} dump request,
 * and a cursor over the {@code rtattr}s that follow a reply's fixed part. What the family's request and reply
 * structs hold ({@code inet_diag_req_v2}, {@code unix_diag_msg}, …) stays with the plugin.
 *
 * <p>Pure byte handling in cryo's process: no system call, no state; usable from any thread. Messages are in host
 * byte order (little-endian on the architectures cryo runs on).
 *
 * @since 1.3.0
 */
public final class SockDiagMessages {
    /** The netlink protocol to pass to {@link HostKernel#netlink(int, byte[])}. */
    public static final int NETLINK_SOCK_DIAG = 4;
    /** {@code nlmsg_type} of a request for the sockets of one family. */
    public static final int SOCK_DIAG_BY_FAMILY = 20;
    public static final int NLM_F_REQUEST = 0x1;
    /** {@code NLM_F_ROOT | NLM_F_MATCH}: every socket the request matches, in as many messages as it takes. */
    public static final int NLM_F_DUMP = 0x300;
    /** Length of {@code struct nlmsghdr}: a request's or reply's family struct starts here. */
    public static final int HEADER_LENGTH = 16;

    private SockDiagMessages() {
    }

    /**
     * A little-endian heap buffer for a dump request whose family struct is {@code structLength} bytes: the
     * {@code nlmsghdr} is written (length, {@code SOCK_DIAG_BY_FAMILY}, {@code NLM_F_REQUEST | NLM_F_DUMP}, sequence
     * and port id 0) and the position is at {@link #HEADER_LENGTH}, where the caller puts the struct; pass
     * {@code array()} to {@link HostKernel#netlink(int, byte[])}.
     */
    public static ByteBuffer dumpRequest(int structLength) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_LENGTH + structLength).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(HEADER_LENGTH + structLength).putShort((short) SOCK_DIAG_BY_FAMILY)
                .putShort((short) (NLM_F_REQUEST | NLM_F_DUMP)).putInt(0).putInt(0);
        return b;
    }

    /**
     * The attributes of one reply message, from offset {@code from} (the end of the family's fixed struct) to the
     * message's end: its {@code nlmsg_len}, or the buffer's limit when that is shorter.
     */
    public static Attributes attributes(ByteBuffer reply, int from) {
        return new Attributes(reply, from, Math.min(reply.getInt(0), reply.limit()));
    }

    /**
     * A cursor over {@code rtattr}s ({@code u16 rta_len, u16 rta_type}, the payload, padding to 4 bytes):
     * <pre>{@code
     * Attributes a = SockDiagMessages.attributes(b, HEADER_LENGTH + MSG_LEN);
     * while (a.next()) {
     *     if (a.type() == INET_DIAG_SHUTDOWN && a.length() >= 1) shutdown = b.get(a.payload()) & 0xff;
     * }
     * }</pre>
     * It stops at the message's end or at the first attribute whose length is below 4 or runs past the end; then
     * {@link #malformed()} tells which.
     *
     * @since 1.3.0
     */
    public static final class Attributes {
        private final ByteBuffer b;
        private final int end;
        private int next;
        private int offset = -1;
        private int rawLength;
        private boolean malformed;

        private Attributes(ByteBuffer b, int from, int end) {
            this.b = b;
            this.next = from;
            this.end = end;
        }

        /** Moves to the next attribute; false at the end of the message or at a malformed attribute. */
        public boolean next() {
            if (malformed || next + 4 > end) {
                return false;
            }
            offset = next;
            rawLength = b.getShort(offset) & 0xffff;
            if (rawLength < 4 || offset + rawLength > end) {
                malformed = true;
                return false;
            }
            next = offset + ((rawLength + 3) & ~3);
            return true;
        }

        /** {@code rta_type} without the {@code NLA_F_NESTED} and {@code NLA_F_NET_BYTEORDER} bits. */
        public int type() {
            return b.getShort(offset + 2) & 0x7fff;
        }

        /** Offset of the current attribute's payload in the message. */
        public int payload() {
            return offset + 4;
        }

        /** Length of the current attribute's payload in bytes (without header and padding). */
        public int length() {
            return rawLength - 4;
        }

        /** Offset of the current (or the malformed) attribute's header in the message. */
        public int offset() {
            return offset;
        }

        /** {@code rta_len} of the current (or the malformed) attribute, header included. */
        public int rawLength() {
            return rawLength;
        }

        /** Whether {@link #next()} stopped at an attribute of length below 4 or past the message's end. */
        public boolean malformed() {
            return malformed;
        }
    }
}
