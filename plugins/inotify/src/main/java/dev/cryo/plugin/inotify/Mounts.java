package dev.cryo.plugin.inotify;

import java.util.Optional;

/**
 * Finds a mount point of a filesystem by its device in {@code /proc/PID/mountinfo}
 * ({@code ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ...}; paths escape space, tab, newline and backslash in octal).
 * A mount of the filesystem's root ({@code ROOT} = {@code /}) is preferred: any mount serves
 * {@code open_by_handle_at}, but a bind mount of a subdirectory gives paths inside it only.
 */
final class Mounts {
    private Mounts() {
    }

    static Optional<String> mountPoint(String mountinfo, int major, int minor) {
        String dev = major + ":" + minor;
        String any = null;
        for (String line : mountinfo.split("\n")) {
            String[] f = line.split(" ");
            if (f.length < 5 || !f[2].equals(dev)) {
                continue;
            }
            String point = unescape(f[4]);
            if (f[3].equals("/")) {
                return Optional.of(point);
            }
            if (any == null) {
                any = point;
            }
        }
        return Optional.ofNullable(any);
    }

    static String unescape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
