package com.example.cryo.pidfd;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@code /proc/PID/fdinfo/N} says about a pidfd (Linux 5.4+):
 * <pre>
 * pos:    0
 * flags:  02004002
 * mnt_id: 15
 * ino:    102605
 * Pid:    4121
 * NSpid:  4121
 * </pre>
 *
 * @param pid    the process the pidfd refers to as a pid of the reader's pid namespace; -1 when it has exited and
 *               been reaped, 0 when it lives in a pid namespace the reader cannot see
 * @param nsPids the same process's pid in each pid namespace from the reader's down to its own (one entry when both
 *               are the same namespace); empty for -1 and 0
 */
record PidfdFdinfo(int pid, List<Integer> nsPids) {

    /** @return whether the process has exited and been reaped (the pidfd only reports that now) */
    boolean exited() {
        return pid == -1;
    }

    /** @return whether the process is in a pid namespace the reader does not see */
    boolean invisible() {
        return pid == 0;
    }

    /**
     * @param text the whole fdinfo file
     * @throws IllegalArgumentException when it has no {@code Pid:} line (not a pidfd, or a kernel before 5.4)
     */
    static PidfdFdinfo parse(String text) {
        Integer pid = null;
        List<Integer> ns = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("Pid:")) {
                pid = Integer.parseInt(line.substring(4).trim());
            } else if (line.startsWith("NSpid:")) {
                for (String f : line.substring(6).trim().split("\\s+")) {
                    if (!f.isEmpty()) {
                        ns.add(Integer.parseInt(f));
                    }
                }
            }
        }
        if (pid == null) {
            throw new IllegalArgumentException("no Pid: line");
        }
        if (pid <= 0) {
            ns.clear();
        }
        return new PidfdFdinfo(pid, List.copyOf(ns));
    }
}
