package dev.cryo.plugin.externalunixsocket;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The AF_UNIX sockets of cryo's network namespace as {@code /proc/net/unix} lists them: inode, type, state, whether
 * listening, bound name. Read once per {@link ExternalUnixSocketHandler#accept} call (the tree is frozen, the peers
 * outside are not). Immutable.
 *
 * <p>Why not NETLINK_SOCK_DIAG: {@code ExternalPeerHandler.accept} gets no {@code HostKernel}, and plugins have no
 * native access of their own. The file loses one thing sock_diag has: in an abstract name the kernel prints every
 * NUL as {@code @}, so an abstract name containing {@code @} or NUL bytes past the first cannot be told apart; that
 * only affects this plugin's record (messages and {@code cryo show}); the unix-socket plugin reconnects to the exact
 * name it read from sock_diag.
 */
final class ProcNetUnix {
    static final int SOCK_STREAM = 1;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_SEQPACKET = 5;
    /** {@code __SO_ACCEPTCON}: the Flags column of a listening socket. */
    static final int SO_ACCEPTCON = 1 << 16;

    /**
     * One line of {@code /proc/net/unix}.
     *
     * @param name the bound name: sun_path bytes without trailing NUL; abstract names start with NUL; empty = unbound
     */
    record Socket(long ino, int type, int state, boolean listening, byte[] name) {
        boolean isBound() {
            return name.length > 0;
        }

        boolean isAbstract() {
            return name.length > 0 && name[0] == 0;
        }

        boolean isPath() {
            return name.length > 0 && name[0] != 0;
        }

        boolean hasName(byte[] other) {
            return Arrays.equals(name, other);
        }

        /** @return a path, {@code @abstract} (NULs shown as @), or {@code unnamed} */
        String nameText() {
            return ProcNetUnix.nameText(name);
        }

        String typeName() {
            return ProcNetUnix.typeName(type);
        }
    }

    private final Map<Long, Socket> byIno;

    private ProcNetUnix(Map<Long, Socket> byIno) {
        this.byIno = byIno;
    }

    /** @return the sockets listed now; empty when the file cannot be read (every lookup then misses) */
    static ProcNetUnix read() {
        try {
            return parse(new String(Files.readAllBytes(Path.of("/proc/net/unix")), StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            return new ProcNetUnix(Map.of());
        }
    }

    /** Parses the file's text (read as ISO-8859-1 so that every byte of a name survives). */
    static ProcNetUnix parse(String text) {
        Map<Long, Socket> out = new LinkedHashMap<>();
        String[] lines = text.split("\n");
        for (int i = 1; i < lines.length; i++) {
            Socket s = parseLine(lines[i]);
            if (s != null) {
                out.put(s.ino(), s);
            }
        }
        return new ProcNetUnix(out);
    }

    /** {@code Num: RefCount Protocol Flags Type St Inode [Path]}; null for a malformed line. */
    static Socket parseLine(String line) {
        String trimmed = line.stripLeading();
        String[] f = trimmed.split(" +", 8);
        if (f.length < 7) {
            return null;
        }
        try {
            int flags = (int) Long.parseLong(f[3], 16);
            int type = Integer.parseInt(f[4], 16);
            int state = Integer.parseInt(f[5], 16);
            long ino = Long.parseLong(f[6]);
            byte[] name = new byte[0];
            if (f.length == 8 && !f[7].isEmpty()) {
                byte[] raw = f[7].getBytes(StandardCharsets.ISO_8859_1);
                if (raw[0] == '@') {
                    raw[0] = 0;   // the kernel shows the leading NUL of an abstract name as @
                }
                name = raw;
            }
            return new Socket(ino, type, state, (flags & SO_ACCEPTCON) != 0, name);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    Optional<Socket> get(long ino) {
        return Optional.ofNullable(byIno.get(ino));
    }

    Collection<Socket> all() {
        return byIno.values();
    }

    /** @return a listening socket of {@code type} bound to {@code name}, other than {@code except} */
    Optional<Socket> listenerAt(byte[] name, int type, long except) {
        if (name.length == 0) {
            return Optional.empty();
        }
        for (Socket s : byIno.values()) {
            if (s.listening() && s.type() == type && s.ino() != except && s.hasName(name)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    static String nameText(byte[] name) {
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

    static String typeName(int type) {
        return switch (type) {
            case SOCK_STREAM -> "stream";
            case SOCK_DGRAM -> "dgram";
            case SOCK_SEQPACKET -> "seqpacket";
            default -> "type " + type;
        };
    }
}
