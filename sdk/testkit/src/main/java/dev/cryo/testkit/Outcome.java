package dev.cryo.testkit;

import java.util.List;

/**
 * What a restored workload reported: whether cryo restored it, its exit status and the lines it printed after the
 * dump.
 *
 * @param dump       the {@code cryo dump} that wrote the image
 * @param restore    the {@code cryo restore} (without {@code -d}: its exit status is the restored root's)
 * @param restored   whether the restored tree ran (cryo wrote the pid file after resuming it)
 * @param exitStatus the restored root's exit status (128+N when signal N killed it); meaningless unless restored
 * @param lines      the lines the workload wrote to stdout after the dump: what the restored process found
 * @param stderr     the workload's whole stderr, original and restored
 */
public record Outcome(CryoResult dump, CryoResult restore, boolean restored, int exitStatus, List<String> lines,
                      String stderr) {

    /** Fails the test unless the tree was restored and its root exited 0 (its own checks passed). */
    public Outcome assertSucceeded() {
        if (!restored) {
            throw new AssertionError("the restore failed:\n" + restore.describe() + details());
        }
        if (exitStatus != 0) {
            throw new AssertionError("the restored workload exited with status " + exitStatus + " (0 = its checks "
                    + "passed)" + details() + "\n" + restore.describe());
        }
        return this;
    }

    /** Fails the test unless the restore was refused with the error code {@code code}, e.g. {@code acme/GONE}. */
    public Outcome assertRefused(String code) {
        if (restored || !restore.errorCode().filter(code::equals).isPresent()) {
            throw new AssertionError("expected the restore to be refused with [" + code + "]:\n" + restore.describe()
                    + details());
        }
        return this;
    }

    private String details() {
        return "\n  workload stdout after the dump: " + CryoResult.indent(String.join("\n", lines))
                + "\n  workload stderr: " + CryoResult.indent(stderr);
    }
}
