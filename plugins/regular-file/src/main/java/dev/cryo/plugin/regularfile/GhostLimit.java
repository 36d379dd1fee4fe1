package dev.cryo.plugin.regularfile;

import java.util.Locale;

/**
 * The {@code ghost-limit} option: the largest unlinked file whose content a dump saves, as CRIU's
 * {@code --ghost-limit SIZE} takes it — bytes, or a number with a {@code K}, {@code M} or {@code G} suffix (powers
 * of 1024). Default 1 MiB.
 */
public final class GhostLimit {
    static final String OPTION = "ghost-limit";
    static final String DEFAULT = "1M";
    static final String PATTERN = "[0-9]+[KkMmGg]?";

    private GhostLimit() {
    }

    /**
     * @return the limit in bytes
     * @throws IllegalArgumentException when {@code value} is not a size (the option's pattern checks it first)
     */
    public static long parse(String value) {
        String v = value.trim();
        if (!v.matches(PATTERN)) {
            throw new IllegalArgumentException("not a size (bytes, or with a K, M or G suffix): " + value);
        }
        char last = Character.toUpperCase(v.charAt(v.length() - 1));
        int shift = switch (last) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            default -> 0;
        };
        String digits = shift == 0 ? v : v.substring(0, v.length() - 1);
        long n = Long.parseLong(digits);
        if (n > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("size too large: " + value);
        }
        return n << shift;
    }

    /** @return {@code 1048576 bytes (1M)}-like text for messages */
    static String describe(long bytes) {
        if (bytes >= 1 << 30 && bytes % (1 << 30) == 0) {
            return bytes + " bytes (" + (bytes >> 30) + "G)";
        }
        if (bytes >= 1 << 20 && bytes % (1 << 20) == 0) {
            return bytes + " bytes (" + (bytes >> 20) + "M)";
        }
        if (bytes >= 1 << 10 && bytes % (1 << 10) == 0) {
            return bytes + " bytes (" + (bytes >> 10) + "K)";
        }
        return String.format(Locale.ROOT, "%d bytes", bytes);
    }
}
