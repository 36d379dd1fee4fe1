package com.example.cryo.pidfd;

import java.nio.file.Path;

/**
 * Whether a process belongs to the tree being dumped. The SPI hands a handler the holder of an fd, not the list of
 * the tree's processes; but during a dump cryo has frozen every task of the tree with {@code PTRACE_SEIZE}, so a
 * task is in the tree exactly when its tracer ({@code TracerPid}) is a thread of cryo's own process — the process
 * this plugin runs in. A zombie cannot be traced: it belongs to the tree when its parent does (cryo dumps the
 * tree's zombies with it).
 */
final class TreeMembership {
    private final Path procRoot;
    private final long cryoPid;

    /**
     * @param procRoot {@code /proc}
     * @param cryoPid  the pid of cryo's process ({@code ProcessHandle.current().pid()} inside cryo)
     */
    TreeMembership(Path procRoot, long cryoPid) {
        this.procRoot = procRoot;
        this.cryoPid = cryoPid;
    }

    boolean inTree(ProcessView p) {
        if (frozenByCryo(p)) {
            return true;
        }
        return p.isZombie() && ProcessView.read(procRoot, p.ppid()).map(this::frozenByCryo).orElse(false);
    }

    private boolean frozenByCryo(ProcessView p) {
        return p.tracerPid() > 0 && ProcessView.read(procRoot, p.tracerPid()).map(t -> t.tgid() == cryoPid)
                .orElse(false);
    }
}
