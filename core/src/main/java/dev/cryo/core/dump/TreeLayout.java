package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;

/**
 * Checks that the sessions and process groups of a frozen tree can be rebuilt by forking from the root: every
 * session is led by a process of the tree that is an ancestor of its members, or lies outside the tree for the
 * whole branch (the restored processes then join cryo's session, like CRIU's shell jobs); every group led by a
 * process of the tree is in that process's session. A group whose leader exited is rebuilt by a helper when its
 * session is in the tree, and left (its members join cryo's group) when the session is outside too.
 */
final class TreeLayout {
    private TreeLayout() {
    }

    static void check(FrozenTree tree) throws CryoException {
        for (FrozenProcess p : tree.processes) {
            int sid = p.stat.session();
            int pgid = p.stat.pgrp();
            FrozenProcess parent = p == tree.root() ? null : tree.process(p.stat.ppid());
            boolean inherited = parent != null && parent.stat.session() == sid;
            if (sid != p.pid && !inherited && (parent != null || tree.contains(sid))) {
                throw new CryoException(Category.UNSUPPORTED, "core/SESSION_LAYOUT", "dump refused: " + p.who()
                        + " is in session " + sid + " but neither leads it nor inherited it from its parent (pid "
                        + p.stat.ppid() + " is in session " + (parent == null ? "?" : parent.stat.session())
                        + "); cryo rebuilds sessions by forking and cannot recreate this one",
                        "dump a tree whose sessions are led by their members' ancestors");
            }
            if (pgid == p.pid) {
                continue;
            }
            FrozenProcess leader = tree.process(pgid);
            if (leader != null) {
                if (leader.stat.session() != sid) {
                    throw new CryoException(Category.UNSUPPORTED, "core/GROUP_LAYOUT", "dump refused: " + p.who()
                            + " is in process group " + pgid + " of another session", null);
                }
                continue;
            }
            // the leader exited: a group in a session of the tree is founded again by a helper with the leader's pid
            // at restore (OrphanedGroups); one in a session outside the tree is left, its members join cryo's
        }
    }
}
