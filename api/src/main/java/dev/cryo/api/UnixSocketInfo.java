package dev.cryo.api;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One line of {@code /proc/net/unix}, as {@link HostKernel#unixSockets()} returns it.
 *
 * @param ino       the socket inode
 * @param type      {@code SOCK_STREAM} 1, {@code SOCK_DGRAM} 2, {@code SOCK_SEQPACKET} 5
 * @param state     the kernel's {@code SS_*} state column
 * @param listening whether the socket listens ({@code __SO_ACCEPTCON})
 * @param name      the bound name: sun_path bytes without the trailing NUL; an abstract name starts with NUL; empty:
 *                  unbound. In an abstract name the kernel prints every NUL as {@code @}, so NULs past the first
 *                  cannot be told from {@code @} here (sock_diag has the exact bytes).
 * @since 1.1.0
 */
public record UnixSocketInfo(long ino, int type, int state, boolean listening, byte[] name) {
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_SEQPACKET = 5;

    public boolean isBound() {
        return name.length > 0;
    }

    public boolean isAbstract() {
        return name.length > 0 && name[0] == 0;
    }

    public boolean isPath() {
        return name.length > 0 && name[0] != 0;
    }

    public boolean hasName(byte[] other) {
        return Arrays.equals(name, other);
    }

    /** @return a path, {@code @abstract} (NULs shown as {@code @}, other bytes escaped), or {@code unnamed} */
    public String nameText() {
        if (name.length == 0) {
            return "unnamed";
        }
        if (name[0] != 0) {
            return new String(name, StandardCharsets.UTF_8);
        }
        StringBuilder sb = new StringBuilder();
        for (byte b : name) {
            int c = b & 0xff;
            if (c == 0) {
                sb.append('@');
            } else if (c >= 0x20 && c < 0x7f) {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return sb.toString();
    }

    /** @return {@code stream}, {@code dgram}, {@code seqpacket} or {@code type N} */
    public String typeName() {
        return typeName(type);
    }

    /**
     * The name of a unix socket type for messages, as {@link #typeName()} gives it for a socket of the table.
     *
     * @param type {@code SOCK_STREAM} 1, {@code SOCK_DGRAM} 2, {@code SOCK_SEQPACKET} 5
     * @return {@code stream}, {@code dgram}, {@code seqpacket} or {@code type N}
     * @since 1.4.0
     */
    public static String typeName(int type) {
        return switch (type) {
            case SOCK_STREAM -> "stream";
            case SOCK_DGRAM -> "dgram";
            case SOCK_SEQPACKET -> "seqpacket";
            default -> "type " + type;
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UnixSocketInfo u && u.ino == ino && u.type == type && u.state == state
                && u.listening == listening && Arrays.equals(u.name, name);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(ino) * 31 + Arrays.hashCode(name);
    }

    @Override
    public String toString() {
        return "unix " + typeName() + " socket ino " + ino + " (" + nameText() + (listening ? ", listening" : "") + ")";
    }
}
