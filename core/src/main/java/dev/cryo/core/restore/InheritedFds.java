package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.LocalFd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code --inherit-fd fd[N]:RESOURCE} (CRIU's syntax): cryo's own fd N stands in for RESOURCE (e.g.
 * {@code pipe:[12345]}) in the restored tree. The fds stay owned by cryo's process (they are never closed here).
 */
final class InheritedFds {
    private static final Pattern SYNTAX = Pattern.compile("fd\\[(\\d+)\\]:(.+)");
    private final Map<String, LocalFd> byResource;

    private InheritedFds(Map<String, LocalFd> byResource) {
        this.byResource = byResource;
    }

    static InheritedFds parse(List<String> values) throws CryoException {
        Map<String, LocalFd> m = new LinkedHashMap<>();
        for (String v : values) {
            Matcher x = SYNTAX.matcher(v.trim());
            if (!x.matches()) {
                throw new CryoException(Category.USAGE, "core/BAD_INHERIT_FD", "--inherit-fd " + v
                        + ": expected fd[N]:RESOURCE, e.g. fd[3]:pipe:[12345]");
            }
            int fd = Integer.parseInt(x.group(1));
            if (!Files.exists(Path.of("/proc/self/fd/" + fd))) {
                throw new CryoException(Category.USAGE, "core/BAD_INHERIT_FD", "--inherit-fd " + v + ": cryo has no"
                        + " fd " + fd, "open fd " + fd + " in the shell that starts cryo, e.g. `cryo restore ... "
                        + fd + "<>FILE` or a pipe");
            }
            m.put(x.group(2), new BorrowedFd(fd));
        }
        return new InheritedFds(m);
    }

    Optional<LocalFd> find(String resource) {
        return Optional.ofNullable(byResource.get(resource));
    }

    /** An fd cryo was started with: never closed by cryo. */
    private record BorrowedFd(int value) implements LocalFd {
        @Override
        public void close() {
        }
    }
}
