package dev.cryo.plugin.inotify;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdinfoLines;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The watches {@code /proc/PID/fdinfo/N} lists for an inotify instance, one line each, as
 * {@code fs/notify/fdinfo.c inotify_fdinfo} writes them: {@code inotify wd:%x ino:%lx sdev:%x mask:%x
 * ignored_mask:%x fhandle-bytes:%x fhandle-type:%x f_handle:%*phN} — every number in hex.
 */
final class InotifyFdinfo {
    private static final Pattern WATCH = Pattern.compile("^inotify wd:([0-9a-fA-F]+) ino:([0-9a-fA-F]+) "
            + "sdev:([0-9a-fA-F]+) mask:([0-9a-fA-F]+) ignored_mask:([0-9a-fA-F]+)(?: fhandle-bytes:([0-9a-fA-F]+) "
            + "fhandle-type:([0-9a-fA-F]+) f_handle:([0-9a-fA-F]*))?\\s*$");

    /** One watch; {@code handle} is empty when the kernel could not encode one (no export support). */
    record Watch(int wd, long ino, int sdev, int mask, int ignoredMask, int handleType, byte[] handle) {
        int major() {
            return sdev >>> 20;
        }

        int minor() {
            return sdev & 0xfffff;
        }
    }

    private InotifyFdinfo() {
    }

    /** @return the watches in ascending wd order */
    static List<Watch> parse(String text, String source) throws CryoException {
        List<Watch> out = new ArrayList<>();
        for (Matcher m : FdinfoLines.matching(text, "inotify ", WATCH, source, "inotify/FDINFO")) {
            byte[] handle = m.group(8) == null ? new byte[0] : HexFormat.of().parseHex(m.group(8));
            out.add(new Watch((int) hex(m.group(1)), hex(m.group(2)), (int) hex(m.group(3)), (int) hex(m.group(4)),
                    (int) hex(m.group(5)), m.group(7) == null ? 0 : (int) hex(m.group(7)), handle));
        }
        out.sort((a, b) -> Integer.compare(a.wd(), b.wd()));
        return out;
    }

    private static long hex(String s) {
        return Long.parseUnsignedLong(s, 16);
    }
}
