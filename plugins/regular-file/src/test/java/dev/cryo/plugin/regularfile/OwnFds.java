package dev.cryo.plugin.regularfile;

import dev.cryo.api.FdInfo;
import dev.cryo.api.TargetFd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;

/** FdInfo of the test JVM's own fds, read from /proc/self the way core reads a target's. */
final class OwnFds {
    private OwnFds() {
    }

    /** @return the fd of this JVM open on {@code path} (link equal to it, or to it plus " (deleted)") */
    static int fdOf(Path path) throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : s.toList()) {
                try {
                    String link = Files.readSymbolicLink(p).toString();
                    if (link.equals(path.toString()) || link.equals(path + " (deleted)")) {
                        return Integer.parseInt(p.getFileName().toString());
                    }
                } catch (IOException gone) {
                    // the fd of the directory listing itself
                }
            }
        }
        throw new AssertionError("no fd of this JVM is open on " + path);
    }

    static FdInfo info(int fd) throws IOException {
        Path p = Path.of("/proc/self/fd/" + fd);
        String link = Files.readSymbolicLink(p).toString();
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,dev,ino,rdev,size,lastModifiedTime");
        int flags = 0;
        long pos = 0;
        int mnt = 0;
        boolean cloexec = false;
        for (String l : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            String[] kv = l.split(":\\s*", 2);
            switch (kv[0]) {
                case "flags" -> {
                    int raw = Integer.parseInt(kv[1].trim(), 8);
                    cloexec = (raw & OpenFlags.O_CLOEXEC) != 0;
                    flags = raw & ~OpenFlags.O_CLOEXEC;
                }
                case "pos" -> pos = Long.parseLong(kv[1].trim());
                case "mnt_id" -> mnt = Integer.parseInt(kv[1].trim());
                default -> { }
            }
        }
        FileTime mtime = (FileTime) a.get("lastModifiedTime");
        return new FdInfo(TargetFd.of(fd), link, (Integer) a.get("mode"), (Long) a.get("dev"), (Long) a.get("ino"),
                (Long) a.get("rdev"), (Long) a.get("size"), mtime.to(java.util.concurrent.TimeUnit.NANOSECONDS),
                flags, cloexec, pos, mnt);
    }
}
