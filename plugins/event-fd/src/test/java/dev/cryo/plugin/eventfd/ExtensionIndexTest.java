package dev.cryo.plugin.eventfd;

import dev.cryo.api.FdHandler;
import dev.cryo.testkit.ExtensionIndex;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** PF4J finds extensions only through META-INF/extensions.idx; this reads the one the build wrote. */
class ExtensionIndexTest {
    @Test
    void theIndexListsTheThreeHandlers() throws Exception {
        List<Object> extensions = ExtensionIndex.extensions(EventFdHandler.class);
        assertEquals(List.of(EventFdHandler.class, SignalFdHandler.class, TimerFdHandler.class),
                ExtensionIndex.classes(extensions));
        assertEquals(List.of("eventfd", "signalfd", "timerfd"),
                extensions.stream().map(e -> ((FdHandler) e).kind()).toList());
    }
}
