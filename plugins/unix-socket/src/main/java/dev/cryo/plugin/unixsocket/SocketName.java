package dev.cryo.plugin.unixsocket;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The name of an AF_UNIX socket: the bytes of {@code sun_path} without the trailing NUL of a path name. An abstract
 * name starts with a NUL byte; an empty name means unbound. Immutable.
 */
final class SocketName {
    static final SocketName NONE = new SocketName(new byte[0]);
    /** {@code offsetof(struct sockaddr_un, sun_path)} */
    static final int SUN_PATH_OFFSET = 2;
    static final int SUN_PATH_MAX = 108;

    private final byte[] bytes;

    private SocketName(byte[] bytes) {
        this.bytes = bytes;
    }

    /** From the kernel's {@code UNIX_DIAG_NAME} or a {@code msg_name} path part: trailing NULs of a path dropped. */
    static SocketName of(byte[] raw) {
        if (raw.length == 0) {
            return NONE;
        }
        if (raw[0] == 0) {
            return new SocketName(raw.clone());
        }
        int n = raw.length;
        while (n > 0 && raw[n - 1] == 0) {
            n--;
        }
        int nul = 0;
        while (nul < n && raw[nul] != 0) {
            nul++;
        }
        return new SocketName(Arrays.copyOf(raw, nul));
    }

    static SocketName path(String path) {
        return of(path.getBytes(StandardCharsets.UTF_8));
    }

    byte[] bytes() {
        return bytes.clone();
    }

    boolean isBound() {
        return bytes.length > 0;
    }

    boolean isAbstract() {
        return bytes.length > 0 && bytes[0] == 0;
    }

    boolean isPath() {
        return bytes.length > 0 && bytes[0] != 0;
    }

    boolean isRelativePath() {
        return isPath() && bytes[0] != '/';
    }

    /** @return the path as a string; only for {@link #isPath()} names */
    String pathString() {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** {@code struct sockaddr_un} as bind/connect take it; length = {@link #sockaddrLength()}. */
    ByteBuffer sockaddr() {
        ByteBuffer b = ByteBuffer.allocateDirect(SUN_PATH_OFFSET + SUN_PATH_MAX).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) SocketCalls.AF_UNIX).put(bytes);
        if (isPath()) {
            b.put((byte) 0);
        }
        return b.flip();
    }

    /** @return the addrlen to pass with {@link #sockaddr()}: exact for abstract names, path + NUL otherwise */
    int sockaddrLength() {
        return SUN_PATH_OFFSET + bytes.length + (isPath() ? 1 : 0);
    }

    /** For messages: {@code /run/app.sock}, {@code @abstract} (NULs shown as @), or {@code unnamed}. */
    @Override
    public String toString() {
        if (!isBound()) {
            return "unnamed";
        }
        if (isPath()) {
            return pathString();
        }
        StringBuilder sb = new StringBuilder();
        for (byte c : bytes) {
            if (c == 0) {
                sb.append('@');
            } else if (c >= 0x20 && c < 0x7f) {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c & 0xff));
            }
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SocketName n && Arrays.equals(bytes, n.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }
}
