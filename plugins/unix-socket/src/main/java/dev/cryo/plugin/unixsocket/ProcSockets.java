package dev.cryo.plugin.unixsocket;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What {@code /proc} says about unix sockets: the inodes of {@code /proc/net/unix} (to claim fds cheaply in
 * {@link UnixSocketHandler#probe}) and which process holds a socket inode (for messages). Read with java.nio;
 * processes that vanish or deny access meanwhile are skipped.
 */
final class ProcSockets {
    private ProcSockets() {
    }

    /** @return the inodes of every AF_UNIX socket of cryo's network namespace */
    static Set<Long> unixInodes() {
        Set<Long> out = new HashSet<>();
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/net/unix"));
            for (int i = 1; i < lines.size(); i++) {
                String[] f = lines.get(i).trim().split("\\s+");
                if (f.length >= 7) {
                    try {
                        out.add(Long.parseLong(f[6]));
                    } catch (NumberFormatException ignored) {
                        // a malformed line names no socket
                    }
                }
            }
        } catch (IOException ignored) {
            // no /proc/net/unix: no socket is claimed, and core names the fd as unhandled
        }
        return out;
    }

    /** A process holding a socket through one of its fds. */
    record Owner(int pid, String comm, int fd) {
        @Override
        public String toString() {
            return "pid " + pid + " \"" + comm + "\"";
        }
    }

    /** @return the first process (by /proc order) with an fd on {@code socket:[ino]} */
    /**
     * Every socket held open by any process, by inode, with one of its holders: one scan of {@code /proc/*}/fd
     * instead of one per socket (a tree with hundreds of connected sockets would scan /proc hundreds of times).
     */
    static Map<Long, Owner> owners() {
        Map<Long, Owner> out = new HashMap<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> isPid(p))) {
            for (Path proc : procs) {
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
                    String comm = null;
                    for (Path fd : fds) {
                        try {
                            String link = Files.readSymbolicLink(fd).toString();
                            if (link.startsWith("socket:[")) {
                                long ino = Long.parseLong(link.substring(8, link.length() - 1));
                                if (!out.containsKey(ino)) {
                                    comm = comm != null ? comm : comm(proc);
                                    out.put(ino, new Owner(Integer.parseInt(proc.getFileName().toString()), comm,
                                            Integer.parseInt(fd.getFileName().toString())));
                                }
                            }
                        } catch (IOException | RuntimeException ignored) {
                            // the fd was closed meanwhile
                        }
                    }
                } catch (IOException | RuntimeException ignored) {
                    // the process exited or is not ours to read
                }
            }
        } catch (IOException ignored) {
            // no /proc: no owner to name
        }
        return out;
    }

    static Optional<Owner> owner(long ino) {
        String link = "socket:[" + ino + "]";
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> isPid(p))) {
            for (Path proc : procs) {
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
                    for (Path fd : fds) {
                        try {
                            if (Files.readSymbolicLink(fd).toString().equals(link)) {
                                int pid = Integer.parseInt(proc.getFileName().toString());
                                return Optional.of(new Owner(pid, comm(proc),
                                        Integer.parseInt(fd.getFileName().toString())));
                            }
                        } catch (IOException | RuntimeException ignored) {
                            // the fd was closed meanwhile
                        }
                    }
                } catch (IOException | RuntimeException ignored) {
                    // the process exited or is not ours to read
                }
            }
        } catch (IOException ignored) {
            // no /proc: no owner to name
        }
        return Optional.empty();
    }

    private static boolean isPid(Path p) {
        String n = p.getFileName().toString();
        return !n.isEmpty() && n.chars().allMatch(Character::isDigit);
    }

    private static String comm(Path proc) {
        try {
            return Files.readString(proc.resolve("comm")).strip();
        } catch (IOException e) {
            return "?";
        }
    }
}
