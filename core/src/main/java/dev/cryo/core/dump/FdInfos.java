package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.FdInfo;
import dev.cryo.api.TargetFd;
import dev.cryo.core.linux.ProcFs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Builds the {@link FdInfo} core hands to the FdHandlers from /proc. */
final class FdInfos {
    private static final int O_CLOEXEC = 02000000;

    private FdInfos() {
    }

    static FdInfo read(int pid, int fd, dev.cryo.core.linux.HostView host) throws CryoException {
        Path p = ProcFs.dir(pid).resolve("fd").resolve(Integer.toString(fd));
        String link = ProcFs.readLink(p);
        Map<String, Object> a;
        try {
            a = Files.readAttributes(p, "unix:mode,ino,dev,rdev,size,lastModifiedTime");
        } catch (IOException e) {
            throw new CryoException(Category.KERNEL, "core/PROC_READ", "cannot stat fd " + fd + " of pid " + pid
                    + " (" + link + "): " + e.getMessage());
        }
        Map<String, String> info = ProcFs.fdinfo(pid, fd);
        int flags = Integer.parseInt(info.getOrDefault("flags", "0"), 8);
        long mtime = ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS);
        return new FdInfo(TargetFd.of(fd), link, (Integer) a.get("mode"), (Long) a.get("dev"), (Long) a.get("ino"),
                (Long) a.get("rdev"), (Long) a.get("size"), mtime, flags & ~O_CLOEXEC, (flags & O_CLOEXEC) != 0,
                Long.parseLong(info.getOrDefault("pos", "0")), Integer.parseInt(info.getOrDefault("mnt_id", "0")),
                ((Integer) a.get("mode") & FdInfo.S_IFMT) == FdInfo.S_IFSOCK ? host.socketFamily((Long) a.get("ino"), p) : "");
    }
}
