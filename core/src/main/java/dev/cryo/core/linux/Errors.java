package dev.cryo.core.linux;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Errno;

/**
 * Turns errno values into messages: {@code call(args) failed: ENOENT (No such file or directory)}, with the names
 * and texts of {@link Errno} (the one errno table; compare with {@code Errno.EPERM.number()}, not with constants of
 * one's own).
 */
public final class Errors {
    private Errors() {
    }

    /** @return e.g. {@code ENOENT (No such file or directory)} */
    public static String describe(int errno) {
        return Errno.describe(errno);
    }

    /** @return the symbolic name only, e.g. {@code ESRCH} */
    public static String name(int errno) {
        return Errno.of(errno).map(Enum::name).orElse("errno " + errno);
    }

    public static CryoException failure(String call, int errno) {
        return new CryoException(Category.KERNEL, "core/SYSCALL_FAILED", call + " failed: " + describe(errno), null,
                errno, null);
    }

    /** Throws for a libc return of -1 (errno from the thread), else returns {@code r}. */
    public static long check(long r, String call) throws CryoException {
        if (r == -1) {
            throw failure(call, LibC.errno());
        }
        return r;
    }
}
