package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.core.image.proto.PstreeEntry;
import dev.cryo.core.linux.Reaper;
import dev.cryo.core.linux.Sys;
import dev.cryo.core.linux.Tracee;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Process groups of the image whose leader had exited at dump while members (live or zombies) remained, in a
 * session the tree leads. A group exists only while it has a member, and only its leader's pid can found it: for
 * each such group a short-lived helper process is cloned with the leader's pid from the session leader (so it is in
 * the session), founds the group with {@code setpgid(0, 0)}, the members join it, then the helper exits and its
 * parent reaps it with an injected {@code wait4}. The helper is cloned with exit signal 0: its parent gets no
 * SIGCHLD it never had. This is what CRIU's helper tasks do.
 */
final class OrphanedGroups {
    private static final int WAIT4 = 61;

    private final ProcessCreator creator;
    /** pgid → helper leading it; parents by pgid. */
    private final Map<Integer, Tracee> helpers = new LinkedHashMap<>();
    private final Map<Integer, Tracee> parents = new LinkedHashMap<>();

    OrphanedGroups(ProcessCreator creator) {
        this.creator = creator;
    }

    /** Creates a helper for every group whose leader is not in the image and whose session leader is. */
    void create(List<PstreeEntry> procs, Map<Integer, Tracee> created) throws CryoException {
        for (PstreeEntry e : procs) {
            int pgid = e.getPgid();
            if (pgid == e.getPid() || created.containsKey(pgid) || helpers.containsKey(pgid)
                    || !created.containsKey(e.getSid())) {
                continue;
            }
            Tracee parent = created.get(e.getSid());
            Tracee helper = creator.createGroupHelper(parent, pgid, "leader of process group " + pgid);
            helpers.put(pgid, helper);
            parents.put(pgid, parent);
            helper.injectChecked("setpgid(0, 0) in the helper of group " + pgid, Sys.SETPGID, 0, 0);
        }
    }

    /** @return whether a helper leads group {@code pgid} now */
    boolean leads(int pgid) {
        return helpers.containsKey(pgid);
    }

    /** Ends every helper (the members have joined): it exits, its parent reaps it. */
    void finish() throws CryoException {
        for (Map.Entry<Integer, Tracee> h : helpers.entrySet()) {
            int pid = h.getKey();
            h.getValue().injectExit(0);
            parents.get(pid).injectChecked("wait4(" + pid + ", __WALL) for the helper of group " + pid, WAIT4, pid, 0,
                    Sys.WALL, 0);
        }
        helpers.clear();
    }

    /** Kills helpers left after a failure. Never throws. */
    void killLeftovers() {
        for (int pid : helpers.keySet()) {
            Reaper.killAndReap(pid);
        }
        helpers.clear();
    }
}
