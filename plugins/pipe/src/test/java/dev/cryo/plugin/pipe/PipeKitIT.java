package dev.cryo.plugin.pipe;

import dev.cryo.testkit.CryoTestKit;
import dev.cryo.testkit.Outcome;
import dev.cryo.testkit.WorkloadSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The pipe plugin through the plugin test kit, as a vendor would test theirs: a parent and its child joined by a
 * pipe with bytes in flight at the dump, dumped and restored by the distribution's real {@code bin/cryo}.
 *
 * <p>Runs in distribution/'s {@code verify} (failsafe {@code dependenciesToScan}) against the tarball the pipe
 * plugin ships in; a plugin module is built before the distribution exists.
 */
class PipeKitIT {
    @RegisterExtension
    static final CryoTestKit kit = CryoTestKit.forPlugin("pipe");

    /** Parent writes "before" into the pipe, child reads only after the restore; then "after" follows. */
    private static final String PARENT_AND_CHILD = """
            import os, sys, time
            go = os.environ["CRYO_KIT_GO"]
            def wait_go():
                while not os.path.exists(go):
                    time.sleep(0.01)
            r, w = os.pipe()
            child = os.fork()
            if child == 0:
                os.close(w)
                wait_go()
                data = b""
                while True:
                    chunk = os.read(r, 100)
                    if not chunk:
                        break
                    data += chunk
                ok = data == b"before\\nafter\\n"
                print(("OK" if ok else "FAIL") + " child read " + repr(data), flush=True)
                os._exit(0 if ok else 1)
            os.close(r)
            os.write(w, b"before\\n")
            print("READY child=%d" % child, flush=True)
            wait_go()
            os.write(w, b"after\\n")
            os.close(w)
            _, status = os.waitpid(child, 0)
            print("OK parent: child exited %d" % os.waitstatus_to_exitcode(status), flush=True)
            sys.exit(os.waitstatus_to_exitcode(status))
            """;

    @Test
    void bytesInFlightBetweenParentAndChildSurvive() {
        Outcome out = kit.roundTrip(WorkloadSpec.python3(PARENT_AND_CHILD).withName("pipe_parent_child"))
                .assertSucceeded();
        assertEquals(List.of("OK child read b'before\\nafter\\n'", "OK parent: child exited 0"), out.lines());
    }
}
