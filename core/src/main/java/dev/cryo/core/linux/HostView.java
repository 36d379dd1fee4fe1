package dev.cryo.core.linux;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdHolder;
import dev.cryo.api.HostKernel;
import dev.cryo.api.Pid;
import dev.cryo.api.TargetFd;
import dev.cryo.api.UnixSocketInfo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@link HostKernel} of one command: netlink queries, and the host's fd links and unix sockets, each read
 * once on first use and cached (the dumped tree is frozen; the rest of the host is a snapshot). One instance per
 * dump or restore, used on the tracer thread only.
 */
public final class HostView implements HostKernel {
    /** {@code __SO_ACCEPTCON}: the Flags column of a listening socket in {@code /proc/net/unix}. */
    private static final int SO_ACCEPTCON = 1 << 16;

    private final Path proc;
    private final Netlink netlink = new Netlink();
    private final int self = (int) ProcessHandle.current().pid();
    /** fd link to its holders as {pid, fd}, by pid then fd; built on first use. */
    private Map<String, List<int[]>> links;
    private final Map<Integer, String> comms = new HashMap<>();
    private List<UnixSocketInfo> unix;
    private SelfTask selfTask;
    private Map<Long, UnixSocketInfo> unixByIno;

    public HostView() {
        this(Path.of("/proc"));
    }

    /** A view of another proc tree (tests). */
    HostView(Path proc) {
        this.proc = proc;
    }

    @Override
    public List<byte[]> netlink(int protocol, byte[] request) throws CryoException {
        return netlink.netlink(protocol, request);
    }

    @Override
    public List<FdHolder> holders(String link) {
        if (links == null) {
            links = scanLinks();
        }
        List<FdHolder> out = new ArrayList<>();
        for (int[] h : links.getOrDefault(link, List.of())) {
            out.add(new FdHolder(Pid.of(h[0]), comm(h[0]), TargetFd.of(h[1]), flags(h[0], h[1])));
        }
        return out;
    }

    @Override
    public List<UnixSocketInfo> unixSockets() {
        if (unix == null) {
            String text;
            try {
                text = new String(Files.readAllBytes(proc.resolve("net/unix")), StandardCharsets.ISO_8859_1);
            } catch (IOException e) {
                text = "";
            }
            unix = parseUnix(text);
            unixByIno = new HashMap<>();
            unix.forEach(s -> unixByIno.put(s.ino(), s));
        }
        return unix;
    }

    @Override
    public Optional<UnixSocketInfo> unixSocket(long ino) {
        unixSockets();
        return Optional.ofNullable(unixByIno.get(ino));
    }

    @Override
    public dev.cryo.api.RemoteTask self() {
        if (selfTask == null) {
            selfTask = new SelfTask();
        }
        return selfTask;
    }

    /**
     * @return the family of the socket with inode {@code ino}, as the socket itself names its protocol
     *         ({@code getxattr(link, "system.sockprotoname")}: {@code UNIX-STREAM}, {@code TCP}, {@code UDPv6}...: one
     *         call per socket, whatever the host holds — issue 13), or else as {@link #socketFamily(long)} finds it in
     *         the {@code /proc/net} tables (read once per view: a protocol cryo does not know the name of)
     */
    public String socketFamily(long ino, Path link) {
        String f = familyOfProtocol(sockProtoName(link));
        return f.isEmpty() ? socketFamily(ino) : f;
    }

    /** {@code TCP}, {@code UDP}... to {@code inet}; {@code TCPv6}... to {@code inet6}; empty when unknown. */
    static String familyOfProtocol(String proto) {
        if (proto.isEmpty()) {
            return "";
        }
        return switch (proto) {
            case "UNIX", "UNIX-STREAM" -> "unix"; // datagram and seqpacket sockets are "UNIX" (6.x kernels)
            case "NETLINK" -> "netlink";
            case "PACKET" -> "packet";
            default -> proto.endsWith("v6") ? "inet6" : proto.matches("TCP|UDP|UDP-Lite|UDPLITE|RAW|PING|MPTCP|SCTP|DCCP"
                    + "|L2TP/IP") ? "inet" : "";
        };
    }

    private static final int GETXATTR = 191;

    /** {@code getxattr(link, "system.sockprotoname")}, empty when it fails. */
    static String sockProtoName(Path link) {
        byte[] path = (link.toString() + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] name = "system.sockprotoname\0".getBytes(StandardCharsets.US_ASCII);
        NativeMemory p = NativeMemory.allocate(path.length + name.length + 64);
        p.put(0, path, 0, path.length);
        p.put(path.length, name, 0, name.length);
        long value = p.address() + path.length + name.length;
        long n = LibC.INSTANCE.syscall(GETXATTR, p.address(), p.address() + path.length, value, 64, 0, 0);
        if (n <= 0) {
            return "";
        }
        byte[] out = new byte[(int) n];
        p.get(path.length + name.length, out, 0, (int) n);
        int len = 0;
        while (len < out.length && out[len] != 0) {
            len++;
        }
        return new String(out, 0, len, StandardCharsets.US_ASCII);
    }

    /** Socket inode to family, from the {@code /proc/net} tables; built on first use. */
    private Map<Long, String> families;

    /**
     * @return the family of the socket with inode {@code ino} ({@code unix}, {@code inet}, {@code inet6},
     *         {@code netlink}, {@code packet}), empty when cryo's network namespace does not list it
     */
    public String socketFamily(long ino) {
        if (families == null) {
            families = new HashMap<>();
            unixSockets().forEach(u -> families.put(u.ino(), "unix"));
            for (String[] t : new String[][] {{"tcp", "inet"}, {"udp", "inet"}, {"raw", "inet"}, {"udplite", "inet"},
                {"tcp6", "inet6"}, {"udp6", "inet6"}, {"raw6", "inet6"}, {"udplite6", "inet6"},
                {"netlink", "netlink"}, {"packet", "packet"}}) {
                readInodes(t[0], t[1]);
            }
        }
        return families.getOrDefault(ino, "");
    }

    /** Reads the inode column of one {@code /proc/net} table: the 10th field of the inet tables, else by header. */
    private void readInodes(String table, String family) {
        List<String> lines;
        try {
            lines = Files.readAllLines(proc.resolve("net/" + table), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return;
        }
        if (lines.isEmpty()) {
            return;
        }
        String[] header = lines.get(0).trim().split("\\s+");
        int col = -1;
        for (int i = 0; i < header.length; i++) {
            if (header[i].equalsIgnoreCase("inode")) {
                col = i;
            }
        }
        if (table.startsWith("tcp") || table.startsWith("udp") || table.startsWith("raw")) {
            col = 9; // the header's "tx_queue rx_queue" and "tr tm->when" shift its words against the columns
        }
        if (col < 0) {
            return;
        }
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).trim().split("\\s+");
            if (f.length > col) {
                try {
                    families.putIfAbsent(Long.parseLong(f[col]), family);
                } catch (NumberFormatException e) {
                    // a malformed line names no socket
                }
            }
        }
    }

    /** Parses {@code /proc/net/unix} read as ISO-8859-1 (so that every byte of a name survives). */
    public static List<UnixSocketInfo> parseUnix(String text) {
        Map<Long, UnixSocketInfo> out = new LinkedHashMap<>();
        String[] lines = text.split("\n");
        for (int i = 1; i < lines.length; i++) {
            UnixSocketInfo s = parseUnixLine(lines[i]);
            if (s != null) {
                out.put(s.ino(), s);
            }
        }
        return List.copyOf(out.values());
    }

    /** {@code Num: RefCount Protocol Flags Type St Inode [Path]}; null for a malformed line. */
    static UnixSocketInfo parseUnixLine(String line) {
        String[] f = line.stripLeading().split(" +", 8);
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
            return new UnixSocketInfo(ino, type, state, (flags & SO_ACCEPTCON) != 0, name);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** One readlink per fd of the host; processes that exit or deny access while scanned are skipped. */
    private Map<String, List<int[]>> scanLinks() {
        List<Integer> pids = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(proc, "[0-9]*")) {
            for (Path p : ds) {
                try {
                    pids.add(Integer.parseInt(p.getFileName().toString()));
                } catch (NumberFormatException e) {
                    // not a process directory
                }
            }
        } catch (IOException e) {
            return Map.of();
        }
        Collections.sort(pids);
        Map<String, List<int[]>> out = new HashMap<>();
        for (int pid : pids) {
            if (pid == self) {
                continue;
            }
            List<int[]> mine = new ArrayList<>();
            Map<Integer, String> byFd = new HashMap<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(proc.resolve(pid + "/fd"))) {
                for (Path f : ds) {
                    try {
                        int fd = Integer.parseInt(f.getFileName().toString());
                        byFd.put(fd, Files.readSymbolicLink(f).toString());
                        mine.add(new int[] {pid, fd});
                    } catch (IOException | NumberFormatException e) {
                        // closed while scanned
                    }
                }
            } catch (IOException | SecurityException e) {
                continue;
            }
            mine.sort((a, b) -> Integer.compare(a[1], b[1]));
            for (int[] h : mine) {
                out.computeIfAbsent(byFd.get(h[1]), k -> new ArrayList<>()).add(h);
            }
        }
        return out;
    }

    private int flags(int pid, int fd) {
        try {
            for (String line : Files.readAllLines(proc.resolve(pid + "/fdinfo/" + fd), StandardCharsets.UTF_8)) {
                if (line.startsWith("flags:")) {
                    return Integer.parseInt(line.substring(6).trim(), 8);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // gone
        }
        return -1;
    }

    private String comm(int pid) {
        return comms.computeIfAbsent(pid, p -> {
            try {
                return Files.readString(proc.resolve(p + "/comm"), StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                return "?";
            }
        });
    }
}
