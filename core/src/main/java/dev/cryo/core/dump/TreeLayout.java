package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;

/**
 * Checks that the sessions and process groups of a frozen tree can be rebuilt by forking from the root: every
 * session is led by a process of the tree that is an ancestor of its members, or lies outside the tree for the
 * whole branch (the restored processes then join cryo's session, like CRIU's shell jobs); every group is led by
 * a process of the tree in the same session, or lies outside the tree together with the session.
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
            if (tree.contains(sid) || sid == p.pid) {
                throw new CryoException(Category.UNSUPPORTED, "core/GROUP_LEADER_GONE", "dump refused: "
                        + p.who() + " is in process group " + pgid + " whose leader (pid " + pgid
                        + ") is not in the tree (it exited or lives elsewhere); cryo cannot recreate a group without"
                        + " its leader", "dump a tree whose process groups are led by processes of the tree");
            }
        }
    }
}
