package dev.cryo.plugin.eventfd;

import dev.cryo.api.FdHandler;
import org.junit.jupiter.api.Test;
import org.pf4j.Extension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PF4J finds extensions only through META-INF/extensions.idx; this reads the one the build wrote. */
class ExtensionIndexTest {
    @Test
    void theIndexListsTheThreeHandlers() throws Exception {
        Path classes = Path.of(EventFdHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path index = classes.resolve("META-INF/extensions.idx");
        assertTrue(Files.isRegularFile(index), index + " is missing: pf4j's annotation processor did not run");
        List<String> names = Files.readAllLines(index, StandardCharsets.UTF_8).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).sorted().toList();
        assertEquals(List.of(EventFdHandler.class.getName(), SignalFdHandler.class.getName(),
                TimerFdHandler.class.getName()), names);
        List<String> kinds = new java.util.ArrayList<>();
        for (String name : names) {
            Class<?> c = Class.forName(name);
            assertNotNull(c.getAnnotation(Extension.class), "@Extension on " + c);
            kinds.add(((FdHandler) c.getDeclaredConstructor().newInstance()).kind());
        }
        assertEquals(List.of("eventfd", "signalfd", "timerfd"), kinds);
    }
}
