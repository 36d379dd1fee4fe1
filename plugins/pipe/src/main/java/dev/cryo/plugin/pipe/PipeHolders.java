package dev.cryo.plugin.pipe;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdHolder;
import dev.cryo.api.HostKernel;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The processes that hold an end of a pipe, from core's host view ({@link HostKernel#holders}: one scan of
 * {@code /proc/*}{@code /fd} per command), filtered by end and without the dumped tree. Used on dump to tell an
 * external end from a closed one and to name the outside holders in messages.
 */
final class PipeHolders {
    private PipeHolders() {
    }

    /**
     * @param link     the fd link to look for: {@code pipe:[INO]}, or a FIFO's path
     * @param end      only fds giving this end; {@code null} for any
     * @param excluded pids not to report (the dumped tree)
     * @return the holders, by pid then fd
     */
    static List<FdHolder> find(HostKernel kernel, String link, PipeEnd end, Set<Integer> excluded)
            throws CryoException {
        List<FdHolder> out = new ArrayList<>();
        for (FdHolder h : kernel.holders(link)) {
            if (!excluded.contains(h.pid().value()) && h.flags() >= 0 && (end == null || end.givenBy(h.flags()))) {
                out.add(h);
            }
        }
        return out;
    }

    /** @return {@code pid 77 "helper" fd 4, pid 78 "x" fd 1} or {@code nobody} */
    static String describe(List<FdHolder> holders) {
        if (holders.isEmpty()) {
            return "nobody";
        }
        StringBuilder sb = new StringBuilder();
        for (FdHolder h : holders) {
            sb.append(sb.length() == 0 ? "" : ", ").append(h);
        }
        return sb.toString();
    }
}
