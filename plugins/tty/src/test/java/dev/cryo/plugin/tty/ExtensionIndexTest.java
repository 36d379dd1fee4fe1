package dev.cryo.plugin.tty;

import dev.cryo.api.FdHandler;
import dev.cryo.api.LifecycleListener;
import org.junit.jupiter.api.Test;
import org.pf4j.Extension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PF4J finds extensions only through META-INF/extensions.idx: it must list the handler. */
class ExtensionIndexTest {
    @Test
    void theIndexListsTheHandler() throws Exception {
        Path classes = Path.of(PtyHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path index = classes.resolve("META-INF/extensions.idx");
        assertTrue(Files.isRegularFile(index), index + " is missing: pf4j's annotation processor did not run");
        List<String> names = Files.readAllLines(index, StandardCharsets.UTF_8).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).distinct().toList(); // once per extension point
        assertEquals(List.of(PtyHandler.class.getName()), names);
        Class<?> c = Class.forName(names.get(0));
        assertNotNull(c.getAnnotation(Extension.class));
        Object h = c.getDeclaredConstructor().newInstance();
        assertEquals("tty", ((FdHandler) h).kind());
        assertTrue(h instanceof LifecycleListener, "the handler learns the tree in postFreeze");
        assertTrue(((FdHandler) h).priority() < 0, "asked before regular-file, which claims every /dev/pts/N");
    }
}
