package dev.cryo.plugin.inetsocket;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 socket address as the kernel's {@code sockaddr_in}/{@code sockaddr_in6} carries it: the address
 * bytes in network order, the port, the IPv6 scope id.
 *
 * @param family AF_INET 2 or AF_INET6 10
 * @param addr   4 or 16 bytes
 * @param port   0..65535
 * @param scope  the IPv6 scope id (link-local addresses); 0 otherwise
 */
record InetAddr(int family, byte[] addr, int port, int scope) {
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCKADDR_IN_LEN = 16;
    static final int SOCKADDR_IN6_LEN = 28;
    /** Room for either form. */
    static final int SOCKADDR_MAX = 28;

    InetAddr {
        int want = family == AF_INET ? 4 : 16;
        if (addr.length != want) {
            throw new IllegalArgumentException("an address of family " + family + " has " + want + " bytes, not "
                    + addr.length);
        }
        addr = addr.clone();
    }

    /** The wildcard address of {@code family}, port 0. */
    static InetAddr any(int family) {
        return new InetAddr(family, new byte[family == AF_INET ? 4 : 16], 0, 0);
    }

    /** Parses a {@code sockaddr_in}/{@code sockaddr_in6} of {@code len} bytes at the buffer's position. */
    static InetAddr parse(ByteBuffer b, int len) {
        ByteBuffer s = b.slice().order(ByteOrder.LITTLE_ENDIAN);
        int family = s.getShort(0) & 0xffff;
        int port = Short.toUnsignedInt(s.order(ByteOrder.BIG_ENDIAN).getShort(2));
        s.order(ByteOrder.LITTLE_ENDIAN);
        if (family == AF_INET && len >= SOCKADDR_IN_LEN) {
            byte[] a = new byte[4];
            s.get(4, a);
            return new InetAddr(AF_INET, a, port, 0);
        }
        if (family == AF_INET6 && len >= SOCKADDR_IN6_LEN) {
            byte[] a = new byte[16];
            s.get(8, a);
            return new InetAddr(AF_INET6, a, port, s.getInt(24));
        }
        // an unconnected socket's getpeername fails; an AF_UNSPEC or short answer means no address
        return null;
    }

    /** @return the {@code sockaddr} bytes (16 or 28), ready to copy into a task */
    ByteBuffer sockaddr() {
        ByteBuffer b = ByteBuffer.allocateDirect(length()).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(0, (short) family);
        b.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) port).order(ByteOrder.LITTLE_ENDIAN);
        if (family == AF_INET) {
            b.put(4, addr);
        } else {
            b.put(8, addr);
            b.putInt(24, scope);
        }
        return b.position(0).limit(length());
    }

    int length() {
        return family == AF_INET ? SOCKADDR_IN_LEN : SOCKADDR_IN6_LEN;
    }

    boolean isWildcard() {
        for (byte x : addr) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /** @return whether this is an IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}) */
    boolean isV4Mapped() {
        if (family != AF_INET6) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (addr[i] != 0) {
                return false;
            }
        }
        return addr[10] == (byte) 0xff && addr[11] == (byte) 0xff;
    }

    /** @return the IPv4 address of an IPv4-mapped one, this address otherwise */
    InetAddr unmapped() {
        return isV4Mapped() ? new InetAddr(AF_INET, Arrays.copyOfRange(addr, 12, 16), port, 0) : this;
    }

    /** @return the address alone: {@code 127.0.0.1}, {@code ::1}, {@code fe80::1%2} */
    String host() {
        try {
            InetAddress a = InetAddress.getByAddress(addr);
            String h = a.getHostAddress();
            if (a instanceof Inet6Address) {
                h = compress(h.replaceFirst("%.*$", ""));
                if (scope != 0) {
                    h += "%" + scope;
                }
            }
            return h;
        } catch (UnknownHostException e) {
            return Arrays.toString(addr);
        }
    }

    /** Java prints {@code 0:0:0:0:0:0:0:1}; people and tools write {@code ::1}. */
    static String compress(String full) {
        String[] parts = full.split(":");
        int bestStart = -1, bestLen = 0;
        for (int i = 0; i < parts.length; ) {
            if (parts[i].equals("0")) {
                int j = i;
                while (j < parts.length && parts[j].equals("0")) {
                    j++;
                }
                if (j - i > bestLen && j - i > 1) {
                    bestStart = i;
                    bestLen = j - i;
                }
                i = j;
            } else {
                i++;
            }
        }
        if (bestStart < 0) {
            return full;
        }
        String head = String.join(":", Arrays.copyOfRange(parts, 0, bestStart));
        String tail = String.join(":", Arrays.copyOfRange(parts, bestStart + bestLen, parts.length));
        return head + "::" + tail;
    }

    /** @return {@code 127.0.0.1:8080}, {@code [::1]:8080} */
    @Override
    public String toString() {
        return family == AF_INET ? host() + ":" + port : "[" + host() + "]:" + port;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InetAddr a && a.family == family && a.port == port && a.scope == scope
                && Arrays.equals(a.addr, addr);
    }

    @Override
    public int hashCode() {
        return (Arrays.hashCode(addr) * 31 + port) * 31 + family;
    }
}
