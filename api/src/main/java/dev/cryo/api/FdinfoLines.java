package dev.cryo.api;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The per-object lines of a {@code /proc/PID/fdinfo/N} text: the registrations of an epoll instance
 * ({@code tfd: …}), the watches of an inotify one ({@code inotify wd:…}), and the like — one line each, after the
 * {@code pos:}, {@code flags:} and {@code mnt_id:} lines every fd has.
 *
 * <p>Pure text handling in cryo's process: no system call, no state; usable from any thread.
 *
 * @since 1.4.0
 */
public final class FdinfoLines {
    private FdinfoLines() {
    }

    /**
     * Matches every line of {@code text} that starts with {@code prefix}, stripped of surrounding white space,
     * against {@code pattern}; the other lines are passed over.
     *
     * @param source where the text was read, e.g. {@code /proc/812/fdinfo/5}, for the error message
     * @param code   the error code of a line that does not match, e.g. {@code epoll/FDINFO}
     * @return one successful {@link Matcher} per such line, in the order of the text
     * @throws CryoException (KERNEL, {@code code}) at the first such line the pattern does not match: this kernel
     *                       writes a format the plugin does not know; the message quotes the line
     */
    public static List<Matcher> matching(String text, String prefix, Pattern pattern, String source, String code)
            throws CryoException {
        List<Matcher> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.startsWith(prefix)) {
                continue;
            }
            Matcher m = pattern.matcher(line.strip());
            if (!m.matches()) {
                throw new CryoException(CryoException.Category.KERNEL, code, source + ": cannot read the line '"
                        + line.strip() + "'; this kernel's fdinfo format is not one cryo knows",
                        "report this with the content of " + source);
            }
            out.add(m);
        }
        return out;
    }
}
