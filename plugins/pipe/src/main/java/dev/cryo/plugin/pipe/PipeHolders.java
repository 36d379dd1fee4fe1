package dev.cryo.plugin.pipe;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Finds the processes that hold an end of a pipe by scanning {@code /proc/*}{@code /fd} (links {@code pipe:[INO]})
 * and their {@code fdinfo} access modes. Used on dump to tell an external end from a closed one and to name the
 * outside holders in messages. Reads /proc only; processes that vanish or deny access while scanned are skipped.
 * Costs one readlink per fd of the system: called at most once per half-held pipe.
 */
final class PipeHolders {
    /** One fd of a process on the pipe. */
    record Holder(int pid, String comm, int fd, int flags) {
        @Override
        public String toString() {
            return "pid " + pid + " \"" + comm + "\" fd " + fd;
        }
    }

    private final Path proc;

    PipeHolders(Path proc) {
        this.proc = proc;
    }

    static PipeHolders system() {
        return new PipeHolders(Path.of("/proc"));
    }

    /**
     * @param link     the fd link to look for: {@code pipe:[INO]}, or a FIFO's path
     * @param end      only fds giving this end; {@code null} for any
     * @param excluded pids not to report (cryo itself, the dumped tree)
     * @return the holders, by pid then fd
     */
    List<Holder> find(String link, PipeEnd end, Set<Integer> excluded) {
        List<Holder> out = new ArrayList<>();
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
            return out;
        }
        pids.sort(null);
        for (int pid : pids) {
            if (excluded.contains(pid)) {
                continue;
            }
            Path fdDir = proc.resolve(Integer.toString(pid)).resolve("fd");
            List<Integer> fds = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(fdDir)) {
                for (Path f : ds) {
                    try {
                        if (link.equals(Files.readSymbolicLink(f).toString())) {
                            fds.add(Integer.parseInt(f.getFileName().toString()));
                        }
                    } catch (IOException | NumberFormatException e) {
                        // closed while scanned
                    }
                }
            } catch (IOException | SecurityException e) {
                continue;
            }
            fds.sort(null);
            for (int fd : fds) {
                int flags = flags(pid, fd);
                if (flags < 0 || (end != null && !end.givenBy(flags))) {
                    continue;
                }
                out.add(new Holder(pid, comm(pid), fd, flags));
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
        try {
            return Files.readString(proc.resolve(pid + "/comm"), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    /** @return {@code pid 77 "helper" fd 4, pid 78 "x" fd 1} or {@code nobody} */
    static String describe(List<Holder> holders) {
        if (holders.isEmpty()) {
            return "nobody";
        }
        StringBuilder sb = new StringBuilder();
        for (Holder h : holders) {
            sb.append(sb.length() == 0 ? "" : ", ").append(h);
        }
        return sb.toString();
    }
}
