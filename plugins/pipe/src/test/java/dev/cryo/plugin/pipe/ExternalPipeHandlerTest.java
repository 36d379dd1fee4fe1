package dev.cryo.plugin.pipe;

import dev.cryo.core.linux.HostView;
import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.ExternalReference;
import dev.cryo.api.ObjectId;
import dev.cryo.api.Pid;
import dev.cryo.api.TargetFd;
import dev.cryo.plugin.pipe.proto.ExternalPipeEntry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The external-pipe policy against real processes: {@code sh -c 'sleep | sleep'} gives a pipe whose write end one
 * sleep holds (on fd 1) and whose read end another holds (on fd 0); the test plays "the tree holds the writer".
 */
class ExternalPipeHandlerTest {
    private final ExternalPipeHandler handler = new ExternalPipeHandler();
    /** A fresh host view per test: it scans /proc once, after the pipeline started. */
    private final HostView host = new HostView();
    private Process shell;
    private int writer;
    private int reader;
    private long inode;

    @BeforeEach
    void startPipeline() throws Exception {
        shell = new ProcessBuilder("sh", "-c", "sleep 60 | sleep 61").redirectInput(new File("/dev/null"))
                .redirectOutput(new File("/dev/null")).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (writer == 0 || reader == 0) {
            for (ProcessHandle h : shell.descendants().toList()) {
                String cmd = Files.readString(Path.of("/proc/" + h.pid() + "/cmdline")).replace('\0', ' ').trim();
                if (cmd.equals("sleep 60")) {
                    writer = (int) h.pid();
                } else if (cmd.equals("sleep 61")) {
                    reader = (int) h.pid();
                }
            }
            assertTrue(System.nanoTime() < deadline, "the pipeline did not start");
            Thread.sleep(10);
        }
        Matcher m = Pattern.compile("pipe:\\[(\\d+)]").matcher(
                Files.readSymbolicLink(Path.of("/proc/" + writer + "/fd/1")).toString());
        assertTrue(m.matches(), "sleep 60's stdout is a pipe");
        inode = Long.parseLong(m.group(1));
    }

    @AfterEach
    void stop() throws Exception {
        shell.descendants().forEach(ProcessHandle::destroyForcibly);
        shell.destroyForcibly();
        shell.waitFor(10, TimeUnit.SECONDS);
    }

    private ExternalReference writerToReader(int fd) {
        return new ExternalReference(PipeEnd.WRITE.of(inode), PipeEnd.READ.of(inode), Pid.of(writer), "sleep",
                TargetFd.of(fd), "(the read end of pipe:[" + inode + "])");
    }

    @Test
    void refusesNamingBothHoldersAndTheFixes() {
        CryoException e = assertThrows(CryoException.class, () -> handler.accept(writerToReader(1), Config.of(Map.of()), host));
        assertEquals("pipe/EXTERNAL_PIPE", e.code());
        assertEquals(CryoException.Category.UNSUPPORTED, e.category());
        String m = e.getMessage();
        assertTrue(m.contains("pipe:[" + inode + "] write end (pid " + writer + " \"sleep\", fd 1)"), m);
        assertTrue(m.contains("pid " + reader + " \"sleep\" fd 0"), m);
        assertTrue(e.fix().contains("--external pipe:[" + inode + "]"), e.fix());
        assertTrue(e.fix().contains("--inherit-fd fd[N]:pipe:[" + inode + "]"), e.fix());
        assertTrue(e.fix().contains("stdio-inherit"), "fd 1 is stdio: " + e.fix());
    }

    @Test
    void acceptsWhenNamedWithExternal() throws Exception {
        Optional<?> r = handler.accept(writerToReader(1),
                Config.of(Map.of("external", List.of("pipe:[1]", "pipe:[" + inode + "]"))), host);
        ExternalPipeEntry e = (ExternalPipeEntry) r.orElseThrow();
        assertEquals("external", e.getReason());
        assertEquals(inode, e.getInode());
        assertTrue(e.getOutsideHolders().contains("pid " + reader), e.getOutsideHolders());
    }

    @Test
    void stdioInheritCoversFdsZeroToTwoOnly() throws Exception {
        Config stdio = Config.of(Map.of("stdio-inherit", List.of()));
        assertEquals("stdio-inherit",
                ((ExternalPipeEntry) handler.accept(writerToReader(1), stdio, host).orElseThrow()).getReason());
        CryoException e = assertThrows(CryoException.class, () -> handler.accept(writerToReader(3), stdio, host));
        assertTrue(!e.fix().contains("stdio-inherit"), "fd 3 is not stdio: " + e.fix());
    }

    @Test
    void acceptsAClosedOtherEnd() throws Exception {
        // the read end of this pipe is held by the reader sleep; ask about a pipe inode nobody holds
        ExternalReference gone = new ExternalReference(PipeEnd.WRITE.of(1), PipeEnd.READ.of(1), Pid.of(writer),
                "sleep", TargetFd.of(1), "");
        assertEquals("closed", ((ExternalPipeEntry) handler.accept(gone, Config.of(Map.of()), host).orElseThrow()).getReason());
    }

    @Test
    void declinesOtherKinds() throws Exception {
        ExternalReference sock = new ExternalReference(new ObjectId("unix-socket", inode),
                new ObjectId("unix-socket", inode + 1), Pid.of(writer), "sleep", TargetFd.of(1), "");
        assertTrue(handler.accept(sock, Config.of(Map.of()), host).isEmpty());
    }
}
