package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.FdHolder;
import dev.cryo.api.FdInfo;
import dev.cryo.api.HostKernel;
import dev.cryo.core.plugin.PluginHost;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The refusal of an fd no enabled plugin claimed: names the precise kind of object (an inet TCP listener with its
 * address, an epoll instance, an io_uring...), says when the fd was inherited from the process that started the
 * tree (with the shell fix), and lists the disabled plugins that might handle it — never a bundled plugin by name,
 * and never "close the fd" for a running program.
 */
final class UnhandledFd {
    private UnhandledFd() {
    }

    /**
     * @param who      the holder, e.g. {@code pid 812 "nginx"}
     * @param parent   pid and name of the process that started the tree (the root's parent), when known
     * @param disabled the plugins found but disabled, with how to enable them
     */
    static CryoException refusal(String who, FdInfo fd, HostKernel kernel, Optional<FdHolder> inheritedFrom,
                                 List<PluginHost.DisabledPlugin> disabled) {
        String kind = describe(fd);
        StringBuilder fix = new StringBuilder();
        inheritedFrom.ifPresent(h -> fix.append("fd ").append(fd.fd()).append(" was inherited from pid ")
                .append(h.pid()).append(" \"").append(h.comm()).append("\", which started the tree (it holds the same ")
                .append(fd.link()).append(" on fd ").append(h.fd()).append("): start the program without it, e.g. `")
                .append("setsid PROG ").append(fd.fd().value()).append(">&- </dev/null >LOG 2>&1 &` in a shell; "));
        if (!disabled.isEmpty()) {
            fix.append("a disabled plugin may handle it: ");
            for (int i = 0; i < disabled.size(); i++) {
                PluginHost.DisabledPlugin d = disabled.get(i);
                fix.append(i == 0 ? "" : "; ").append('\'').append(d.info().id()).append("' (").append(d.fix())
                        .append(')');
            }
            fix.append("; otherwise ");
        }
        fix.append("install a plugin that handles ").append(kindName(fd)).append(" (`cryo plugins` lists what is"
                + " installed)");
        return new CryoException(Category.UNSUPPORTED, "core/UNSUPPORTED_FD", "dump refused: fd " + fd.fd() + " of "
                + who + " is " + kind + " and no enabled plugin handles it", fix.toString());
    }

    /** @return e.g. {@code an inet TCP socket 127.0.0.1:8765 (LISTEN)}, {@code an epoll instance (anon_inode:[eventpoll])} */
    static String describe(FdInfo fd) {
        String link = fd.link();
        if (link.startsWith("anon_inode:")) {
            return anonName(link) + " (" + link + ")";
        }
        if (fd.isSocket()) {
            return InetSockets.describe(fd.inode()).map(s -> "an " + s + " (" + link + ")")
                    .orElse("a socket of another family (" + link + ")");
        }
        return "a " + fd.typeName() + " (" + link + ")";
    }

    private static String kindName(FdInfo fd) {
        String link = fd.link();
        if (link.startsWith("anon_inode:")) {
            return anonName(link).replaceFirst("^an? ", "") + "s";
        }
        if (fd.isSocket()) {
            return InetSockets.describe(fd.inode()).map(s -> s.startsWith("inet6") ? "IPv6 sockets" : "inet sockets")
                    .orElse("sockets of this family");
        }
        return fd.typeName() + "s";
    }

    private static String anonName(String link) {
        String k = link.substring("anon_inode:".length()).replace("[", "").replace("]", "");
        return switch (k) {
            case "eventpoll" -> "an epoll instance";
            case "eventfd" -> "an eventfd";
            case "timerfd" -> "a timerfd";
            case "signalfd" -> "a signalfd";
            case "inotify" -> "an inotify instance";
            case "fanotify" -> "a fanotify instance";
            case "io_uring" -> "an io_uring instance";
            case "perf_event" -> "a perf event";
            case "pidfd" -> "a pidfd";
            case "userfaultfd" -> "a userfaultfd";
            case "bpf-map", "bpf-prog", "bpf_link" -> "a BPF object";
            default -> "an anonymous-inode file of kind " + k;
        };
    }

    /** Inet sockets by inode, from {@code /proc/net/{tcp,tcp6,udp,udp6,raw,raw6}} (read only for a refusal). */
    static final class InetSockets {
        private static final String[] TCP_STATES = {"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
            "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"};

        private InetSockets() {
        }

        static Optional<String> describe(long inode) {
            for (String table : List.of("tcp", "tcp6", "udp", "udp6", "raw", "raw6")) {
                List<String> lines;
                try {
                    lines = Files.readAllLines(Path.of("/proc/net/" + table), StandardCharsets.US_ASCII);
                } catch (IOException e) {
                    continue;
                }
                for (int i = 1; i < lines.size(); i++) {
                    Optional<String> d = describeLine(table, lines.get(i), inode);
                    if (d.isPresent()) {
                        return d;
                    }
                }
            }
            return Optional.empty();
        }

        /** One line of {@code /proc/net/tcp} etc.: {@code sl local rem st tx:rx tr:when retr uid timeout inode}. */
        static Optional<String> describeLine(String table, String line, long inode) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 10 || !f[9].equals(Long.toString(inode))) {
                return Optional.empty();
            }
            boolean v6 = table.endsWith("6");
            String proto = table.replace("6", "").toUpperCase(Locale.ROOT);
            int st = Integer.parseInt(f[3], 16);
            String local = address(f[1], v6);
            String remote = address(f[2], v6);
            String state = proto.equals("TCP") ? (st < TCP_STATES.length ? TCP_STATES[st] : "state " + st)
                    : remote.endsWith(":0") ? "unconnected" : "connected";
            StringBuilder sb = new StringBuilder(v6 ? "inet6 " : "inet ").append(proto).append(" socket ").append(local);
            if (!(remote.startsWith("0.0.0.0:") || remote.startsWith("[::]:")) || !remote.endsWith(":0")) {
                sb.append(" -> ").append(remote);
            }
            return Optional.of(sb.append(" (").append(state).append(')').toString());
        }

        /** {@code 0100007F:1F90} to {@code 127.0.0.1:8080}; IPv6 as {@code [::1]:8080}. */
        static String address(String hex, boolean v6) {
            String[] parts = hex.split(":");
            int port = Integer.parseInt(parts[1], 16);
            String a = parts[0];
            if (!v6) {
                long v = Long.parseLong(a, 16);
                return (v & 0xff) + "." + (v >> 8 & 0xff) + "." + (v >> 16 & 0xff) + "." + (v >> 24 & 0xff) + ":" + port;
            }
            byte[] b = new byte[16];
            for (int w = 0; w < 4; w++) {
                long v = Long.parseLong(a.substring(w * 8, w * 8 + 8), 16);
                for (int k = 0; k < 4; k++) {
                    b[w * 4 + k] = (byte) (v >> (8 * k));
                }
            }
            try {
                String s = java.net.InetAddress.getByAddress(b).getHostAddress();
                s = s.replaceAll("(^|:)0(:0)+(:|$)", "::").replaceFirst(":::", "::");
                return "[" + s + "]:" + port;
            } catch (java.net.UnknownHostException e) {
                return "[" + a + "]:" + port;
            }
        }
    }
}
