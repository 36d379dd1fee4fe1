package dev.cryo.core.image;

import dev.cryo.api.Pid;

import java.util.regex.Pattern;

/**
 * The names of the files of an image, in one place so dump and restore agree. Stateless; any thread.
 */
public final class ImageFileNames {
    /** {@link FileType#INVENTORY}, written last. */
    public static final String INVENTORY = ImageDir.INVENTORY_FILE;
    /** {@link FileType#PSTREE}. */
    public static final String PSTREE = "pstree.img";
    /** {@link FileType#EXTERNAL}: records of the ExternalPeer handlers. */
    public static final String EXTERNAL = "external.img";
    /** Statistics of the dump that wrote the image ({@link FileType#STATS}; not listed in the inventory). */
    public static final String STATS_DUMP = "stats-dump.img";
    /** Statistics of the last restore from the image ({@link FileType#STATS}; not listed in the inventory). */
    public static final String STATS_RESTORE = "stats-restore.img";

    private static final Pattern KIND = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*(/[A-Za-z0-9][A-Za-z0-9_-]*)?");

    private ImageFileNames() {
    }

    /** @return {@code core-PID.img} ({@link FileType#CORE}) */
    public static String core(Pid pid) {
        return "core-" + pid.value() + ".img";
    }

    /** @return {@code mm-PID.img} ({@link FileType#MM}) */
    public static String mm(Pid pid) {
        return "mm-" + pid.value() + ".img";
    }

    /** @return {@code fdinfo-PID.img} ({@link FileType#FDINFO}) */
    public static String fdinfo(Pid pid) {
        return "fdinfo-" + pid.value() + ".img";
    }

    /** @return {@code pages-PID.img} ({@link FileType#PAGES}) */
    public static String pages(Pid pid) {
        return "pages-" + pid.value() + ".img";
    }

    /**
     * @param kind a handler kind: {@code pipe}, or a vendor's namespaced {@code acme/gpu-fd}
     * @return the object table of that kind ({@link FileType#OBJECTS}): {@code pipe.img}, {@code acme.gpu-fd.img}
     * @throws IllegalArgumentException for a kind that is not letters, digits, {@code -} and {@code _} with at
     *                                  most one {@code /} (the plugin manager validates kinds on load)
     */
    public static String objects(String kind) {
        if (kind == null || !KIND.matcher(kind).matches()) {
            throw new IllegalArgumentException("invalid handler kind \"" + kind + "\"");
        }
        return kind.replace('/', '.') + ".img";
    }
}
