package dev.cryo.plugin.externalunixsocket;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Which process holds a socket inode, found by reading the {@code /proc/PID/fd} links of every process (for messages
 * and the record's diagnostics only). Processes that exit or deny access meanwhile are skipped.
 */
final class SocketOwners {
    /** A process holding a socket through one of its fds. */
    record Owner(int pid, String comm) {
        @Override
        public String toString() {
            return "pid " + pid + " \"" + comm + "\"";
        }
    }

    private SocketOwners() {
    }

    /** @return the first process (in /proc order) with an fd on {@code socket:[ino]} */
    static Optional<Owner> of(long ino) {
        String link = "socket:[" + ino + "]";
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), SocketOwners::isPid)) {
            for (Path proc : procs) {
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
                    for (Path fd : fds) {
                        try {
                            if (Files.readSymbolicLink(fd).toString().equals(link)) {
                                return Optional.of(new Owner(Integer.parseInt(proc.getFileName().toString()),
                                        comm(proc)));
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
