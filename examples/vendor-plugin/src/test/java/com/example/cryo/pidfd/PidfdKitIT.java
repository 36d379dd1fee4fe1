package com.example.cryo.pidfd;

import dev.cryo.testkit.CryoResult;
import dev.cryo.testkit.CryoTestKit;
import dev.cryo.testkit.Outcome;
import dev.cryo.testkit.Workload;
import dev.cryo.testkit.WorkloadSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The plugin on real processes, through cryo's real pipeline: the test kit copies the distribution given with
 * {@code -Dcryo.dist}, adds the jar {@code package} just built, and runs its {@code bin/cryo}.
 */
class PidfdKitIT {
    @RegisterExtension
    static final CryoTestKit kit = CryoTestKit.forPlugin("example-pidfd");

    @Test
    void pidfdsOnAChildStillReferToItAfterTheRestore() {
        Outcome out = kit.roundTrip(WorkloadSpec.python3Resource("workloads/pidfd_child.py")).assertSucceeded();
        assertEquals(List.of(
                "OK both pidfds refer to the child",
                "OK PIDFD_NONBLOCK kept",
                "OK FD_CLOEXEC kept per fd",
                "OK pidfd_send_signal(fd, 0)",
                "OK no exit reported while the child runs",
                "OK poll reports the child's exit",
                "OK waitid(P_PIDFD) reaps the child, killed by SIGTERM"), out.lines());
    }

    @Test
    void aPidfdOnAProcessOutsideTheTreeIsRefusedByDefault() {
        Workload outsider = kit.start(sleeper());
        Workload holder = holderOf(outsider);

        String fd = holder.readyLine().replaceAll(".* fd=(\\d+).*", "$1");

        CryoResult dump = kit.dump(holder).assertExit(3);
        assertEquals("example-pidfd/OUTSIDE_TREE", dump.errorCode().orElse(""), dump.describe());
        dump.assertStderrContains("the pidfd (pid " + holder.pid() + " \"" + holder.comm() + "\", fd " + fd
                + ") refers to pid " + outsider.pid() + " \"" + outsider.comm() + "\", which is outside the dumped tree")
                .assertStderrContains("--pidfd-outside-tree");
        assertTrue(holder.isAlive(), "a refused dump leaves the tree running");
    }

    @Test
    void withTheOptionItIsReopenedOnTheSameProcess() {
        DumpedWithTheOption d = dumpWithTheOption();

        Outcome out = kit.restoreAndRun(d.holder(), d.dump()).assertSucceeded();
        assertEquals(List.of("OK pidfd on " + d.outsider().pid() + ", signal 0 delivered"), out.lines());
    }

    @Test
    void theRestoreIsRefusedBeforeAnythingRunsWhenTheOutsideProcessIsGone() {
        DumpedWithTheOption d = dumpWithTheOption();
        d.outsider().kill();

        Outcome out = kit.restoreAndRun(d.holder(), d.dump()).assertRefused("example-pidfd/TARGET_GONE");
        assertEquals(7, out.restore().exitCode(), "CONFLICT");
        assertFalse(out.restore().stderr().contains("Exception"), out.restore().stderr());
        assertTrue(out.lines().isEmpty(), "nothing ran: " + out.lines());
    }

    @Test
    void withThePluginDisabledCryoRefusesTheDumpNamingIt() {
        Workload holder = kit.start(WorkloadSpec.python3Resource("workloads/pidfd_child.py"));
        CryoResult dump = kit.dump(holder, "--config", kit.writeConfig("disabled.conf",
                "plugins.disabled example-pidfd").toString()).assertExit(3);
        assertEquals("core/UNSUPPORTED_FD", dump.errorCode().orElse(""), dump.describe());
        dump.assertStderrContains("is a pidfd (anon_inode:[pidfd]) and no enabled plugin handles it")
                .assertStderrContains("'example-pidfd'");
    }

    /** A process (pidfd_target.py) that holds a pidfd on {@code outsider}, which is outside its tree. */
    private static Workload holderOf(Workload outsider) {
        return kit.start(WorkloadSpec.python3Resource("workloads/pidfd_target.py", Long.toString(outsider.pid())));
    }

    /** An outsider, the holder of a pidfd on it, and the holder's dump taken with {@code --pidfd-outside-tree}. */
    private record DumpedWithTheOption(Workload outsider, Workload holder, CryoResult dump) {
    }

    private static DumpedWithTheOption dumpWithTheOption() {
        Workload outsider = kit.start(sleeper());
        Workload holder = holderOf(outsider);
        return new DumpedWithTheOption(outsider, holder, kit.dump(holder, "--pidfd-outside-tree").assertOk());
    }

    /** A process outside the holder's tree for its pidfd to refer to. */
    private static WorkloadSpec sleeper() {
        return WorkloadSpec.python3("import time\nprint('READY', flush=True)\ntime.sleep(600)\n").withName("outsider");
    }
}
