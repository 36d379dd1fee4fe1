package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Pipes between the processes of a tree (issue 5). Disabled until core restores process trees: today core refuses
 * a tree with children at dump ({@code core/CHILD_PROCESS}), so these would fail for a reason that is not the pipe
 * plugin's. The plugin side (one object per pipe inode, ends pushed into later processes) is written for them.
 * Each restored tree checks itself: the verifier of {@code pipe_tree} reports PASS only when every record of every
 * writer arrived once, in order.
 */
class PipeTreeIT extends WithTestBed {

    /**
     * pair: parent writes fast, child reads slowly; chain 4: a 4-process pipeline; three: one pipe, 3 holders;
     * fifo: a full FIFO between parent and child.
     */
    @ParameterizedTest
    @ValueSource(strings = {"pair", "chain 4", "three", "fifo"})
    void fullPipesBetweenProcessesLoseNothing(String mode) {
        Workload w = bed.workloads().start("pipe_tree", mode.split(" "));
        w.awaitNewTicks(5);
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        w.log().awaitTicks(w.log().size(), 5, Workload.TIMEOUT);
        r.assertVerifyPass();
        TestBed.killRestored(r, rc);
    }

    @Test
    void leaveRunningKeepsTheOriginalPipelineIntact() {
        Workload w = bed.workloads().start("pipe_tree", "chain", "4");
        w.awaitNewTicks(5);
        w.assertVerifyPass();
        bed.cryo().dump(w.pid(), bed.newImageDir(), "-R").assertOk();
        w.awaitNewTicks(5);
        w.assertVerifyPass();
    }

    /** A real shell pipeline: after restore FILE holds one continuous sequence 0, 1, 2... */
    @Test
    void bashPipeIntoCatKeepsTheSequence() throws Exception {
        Path workdir = bed.workloads().newDir("bash_pipe");
        Path file = workdir.resolve("seq.txt");
        Workload w = bed.workloads().startCommand("bash_pipe", List.of("bash", "-c",
                "i=0; while :; do echo $i; i=$((i+1)); sleep 0.01; done | cat >> \"$0\"", file.toString()), workdir);
        long start = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while ((!Files.exists(file) || Files.readAllLines(file).size() < 20) && System.nanoTime() < start) {
            ProcessControl.sleep(20);   // let the pipeline run: 20 numbers through cat
        }
        Path image = bed.dumpAndAwaitGone(w);
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        bed.awaitRestoredRoot(rc, w);
        long atRestore = Files.readAllLines(file).size();
        // the restored loop must go on writing: wait (with a deadline, the machine may be loaded) for 50 more
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (Files.readAllLines(file).size() < atRestore + 50 && System.nanoTime() < deadline) {
            ProcessControl.sleep(50);
        }
        List<String> lines = Files.readAllLines(file);
        assertTrue(lines.size() >= atRestore + 50, "the restored pipeline wrote only " + (lines.size() - atRestore)
                + " lines after restore into " + file);
        for (int i = 0; i < lines.size(); i++) {
            assertTrue(lines.get(i).equals(Integer.toString(i)), "line " + i + " of " + file + " is '" + lines.get(i)
                    + "': the sequence has a gap or a duplicate");
        }
        rc.process().destroyForcibly();
    }

}
