package dev.cryo.core.image;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/**
 * The last line of defence of commands that read an image ({@code restore}, {@code show}): every record passes its
 * checksum, yet a value in it is one the code cannot use (an fd number below 0, an enum value no cryo wrote, an
 * offset past the end of everything) — an image altered with its checksums recomputed, or written by a broken
 * cryo. The readers check what they can name; what slips past them ends as the argument checks of the API's value
 * types and of the JDK ({@link IllegalArgumentException}, index and arithmetic exceptions), which this turns into
 * {@code core/IMAGE_INVALID} (IMAGE, exit 6) naming the image, the value and where it was refused, instead of an
 * internal error with a stack trace (logged at debug level, {@code -vv}). A restore that fails so has killed what it
 * created, like any failed restore.
 */
public final class DamagedImage {
    public static final String CODE = "core/IMAGE_INVALID";
    private static final Logger LOG = LoggerFactory.getLogger(DamagedImage.class);

    private DamagedImage() {
    }

    /** @return whether {@code e} is what a bad value from an image ends as (not, say, a NullPointerException) */
    public static boolean isValueError(RuntimeException e) {
        return e instanceof IllegalArgumentException || e instanceof IndexOutOfBoundsException
                || e instanceof NegativeArraySizeException || e instanceof ArithmeticException
                || e instanceof java.nio.BufferUnderflowException || e instanceof java.nio.BufferOverflowException;
    }

    /** @return the refusal for {@code e}, met while {@code what} the image in {@code dir} */
    public static CryoException of(Path dir, String what, RuntimeException e) {
        LOG.debug("{} {}: a value of the image was refused", what, dir, e);
        StackTraceElement[] trace = e.getStackTrace();
        String where = trace.length == 0 ? "" : " in " + simpleName(trace[0].getClassName()) + "."
                + trace[0].getMethodName();
        String detail = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        return new CryoException(Category.IMAGE, CODE, what + " " + dir + ": the image holds a value cryo cannot use: "
                + detail + " (" + e.getClass().getSimpleName() + where + ")",
                "the image was damaged or altered (its checksums match, so it was rewritten); dump the tree again. "
                        + "If the image is intact, it is a bug of cryo: report it with the output of -vv", e);
    }

    private static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }
}
