package dev.cryo.plugin.eventfd;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.TargetFd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code key: value} lines of {@code /proc/PID/fdinfo/N} of an eventfd, timerfd or signalfd, as the kernel
 * writes them ({@code fs/eventfd.c}, {@code fs/timerfd.c}, {@code fs/signalfd.c} {@code *_show_fdinfo}): keys may
 * hold spaces ({@code settime flags}); values are decimal ({@code ticks}), hex ({@code eventfd-count},
 * {@code sigmask}), octal ({@code flags}, {@code settime flags}) or a pair ({@code it_value: (99, 999980974)}).
 */
final class FdinfoFields {
    private final Map<String, String> fields;
    private final String source;

    FdinfoFields(Map<String, String> fields, String source) {
        this.fields = fields;
        this.source = source;
    }

    /** Reads the fdinfo of {@code fd} of the task's process. */
    static FdinfoFields read(RemoteTask task, TargetFd fd) throws CryoException {
        Path p = task.procDir().resolve("fdinfo").resolve(Integer.toString(fd.value()));
        try {
            return parse(Files.readString(p), p.toString());
        } catch (IOException e) {
            throw new CryoException(Category.KERNEL, "event-fd/FDINFO", "cannot read " + p + " (pid " + task.pid()
                    + " \"" + task.comm() + "\" fd " + fd + "): " + e.getMessage());
        }
    }

    static FdinfoFields parse(String text, String source) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            m.putIfAbsent(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
        }
        return new FdinfoFields(m, source);
    }

    Optional<String> get(String key) {
        return Optional.ofNullable(fields.get(key));
    }

    String require(String key) throws CryoException {
        String v = fields.get(key);
        if (v == null) {
            throw new CryoException(Category.KERNEL, "event-fd/FDINFO", source + " has no '" + key
                    + "' line; this kernel's fdinfo format is not one cryo knows", "report this with the content of "
                    + source);
        }
        return v;
    }

    long decimal(String key) throws CryoException {
        return parse(key, require(key), 10);
    }

    /** An unsigned 64-bit decimal (timerfd {@code ticks}). */
    long unsignedDecimal(String key) throws CryoException {
        String v = require(key);
        try {
            return Long.parseUnsignedLong(v);
        } catch (NumberFormatException e) {
            throw bad(key, v);
        }
    }

    long octal(String key) throws CryoException {
        return parse(key, require(key), 8);
    }

    long hex(String key) throws CryoException {
        String v = require(key);
        try {
            return Long.parseUnsignedLong(v, 16);
        } catch (NumberFormatException e) {
            throw bad(key, v);
        }
    }

    /** {@code (sec, nsec)} as nanoseconds. */
    long timespecNs(String key) throws CryoException {
        String v = require(key);
        String inner = v.replace("(", "").replace(")", "");
        String[] parts = inner.split(",");
        if (parts.length != 2) {
            throw bad(key, v);
        }
        return parse(key, parts[0].strip(), 10) * 1_000_000_000L + parse(key, parts[1].strip(), 10);
    }

    private long parse(String key, String v, int radix) throws CryoException {
        try {
            return Long.parseLong(v, radix);
        } catch (NumberFormatException e) {
            throw bad(key, v);
        }
    }

    private CryoException bad(String key, String v) {
        return new CryoException(Category.KERNEL, "event-fd/FDINFO", source + ": cannot read '" + key + ": " + v
                + "'; this kernel's fdinfo format is not one cryo knows", "report this with the content of " + source);
    }
}
