package dev.cryo.plugin.pipe;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdInfo;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.Pid;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.TargetFd;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PipeHandlerTest {
    private final PipeHandler handler = new PipeHandler();

    private static FdInfo fd(int n, String link, int mode) {
        return new FdInfo(TargetFd.of(n), link, mode, 8, 4711, 0, 0, 0, 0, false, 0, 21);
    }

    /** Contexts that answer only what the handler may ask for a message: the task's pid and the fd. */
    @SuppressWarnings("unchecked")
    private static <T> T context(Class<T> type) {
        RemoteTask task = (RemoteTask) Proxy.newProxyInstance(RemoteTask.class.getClassLoader(),
                new Class<?>[] {RemoteTask.class}, (p, m, a) -> switch (m.getName()) {
                    case "pid" -> Pid.of(812);
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (p, m, a) ->
                switch (m.getName()) {
                    case "task" -> task;
                    case "fd" -> TargetFd.of(5);
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void declinesEveryFd() {
        assertFalse(handler.probe(fd(5, "pipe:[4711]", FdInfo.S_IFIFO)));
        assertFalse(handler.probe(fd(0, "/dev/null", FdInfo.S_IFCHR)));
        assertFalse(handler.probe(fd(1, "/tmp/out", FdInfo.S_IFREG)));
    }

    @Test
    void collectAndRestoreRefuseAsUnsupported() {
        CryoException e = assertThrows(CryoException.class,
                () -> handler.collect(context(FdDumpContext.class), fd(5, "pipe:[4711]", FdInfo.S_IFIFO)));
        assertEquals("pipe/NOT_IMPLEMENTED", e.code());
        assertEquals(CryoException.Category.UNSUPPORTED, e.category());
        assertTrue(e.getMessage().startsWith("fd 5 (pipe:[4711]) of pid 812: "), e.getMessage());
        assertTrue(e.getMessage().contains("does not handle"), e.getMessage());

        e = assertThrows(CryoException.class, () -> handler.restore(context(FdRestoreContext.class)));
        assertEquals("pipe/NOT_IMPLEMENTED", e.code());
        assertTrue(e.getMessage().startsWith("fd 5 of restored pid 812: "), e.getMessage());
    }
}
