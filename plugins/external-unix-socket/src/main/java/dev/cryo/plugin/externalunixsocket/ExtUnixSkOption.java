package dev.cryo.plugin.externalunixsocket;

import dev.cryo.api.Config;

import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code ext-unix-sk} option as CRIU spells it: absent (no outside peer is accepted), a bare flag (every outside
 * peer that can be reconnected), or {@code INO[,INO...]} (only the outside sockets with these inodes — the peer's
 * inode, as the refusal without the option names it). The CLI has already checked the value's shape.
 *
 * @param given  whether the option is set
 * @param inodes the listed peer inodes; empty for the bare flag
 */
record ExtUnixSkOption(boolean given, Set<Long> inodes) {
    static final String KEY = "ext-unix-sk";

    static ExtUnixSkOption of(Config config) {
        if (!config.isSet(KEY)) {
            return new ExtUnixSkOption(false, Set.of());
        }
        Optional<String> value = config.value(KEY).filter(v -> !v.isBlank());
        Set<Long> inodes = new LinkedHashSet<>();
        value.ifPresent(v -> {
            for (String part : v.split(",")) {
                String p = part.strip();
                if (!p.isEmpty()) {
                    inodes.add(Long.parseLong(p));
                }
            }
        });
        return new ExtUnixSkOption(true, Set.copyOf(inodes));
    }

    /** @return whether the peer with inode {@code peerIno} may be taken over */
    boolean allows(long peerIno) {
        return given && (inodes.isEmpty() || inodes.contains(peerIno));
    }

    /** @return how the user spelled it, for messages: {@code --ext-unix-sk} or {@code --ext-unix-sk=1,2} */
    String spelled() {
        if (inodes.isEmpty()) {
            return "--" + KEY;
        }
        StringBuilder sb = new StringBuilder("--" + KEY + "=");
        inodes.stream().sorted().forEach(i -> sb.append(i).append(','));
        return sb.substring(0, sb.length() - 1);
    }
}
