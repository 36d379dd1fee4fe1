package dev.cryo.plugin.memory;

import dev.cryo.api.LifecycleListener;
import dev.cryo.api.MemoryHandler;
import dev.cryo.plugin.memory.proto.VmaEntry;
import org.junit.jupiter.api.Test;
import org.pf4j.Extension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** PF4J finds extensions only through the generated index; a missing or empty index loses them silently. */
class MemoryExtensionIndexTest {
    @Test
    void theHandlerIsListedInTheExtensionIndex() throws Exception {
        Path idx = Path.of("target/classes/META-INF/extensions.idx");
        assertTrue(Files.isRegularFile(idx), "missing " + idx.toAbsolutePath() + " (PF4J annotation processor did not run)");
        List<String> names = Files.readAllLines(idx).stream().map(String::trim)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).distinct().toList();
        // PF4J's processor lists a class once per extension point it implements; PF4J reads the index as a set
        assertEquals(List.of(MemfdHandler.class.getName(), MemoryPluginHandler.class.getName()),
                names.stream().sorted().toList());
        dev.cryo.api.FdHandler memfd = (dev.cryo.api.FdHandler) Class.forName(MemfdHandler.class.getName())
                .getDeclaredConstructor().newInstance();
        assertEquals("memfd", memfd.kind());
        assertTrue(memfd.priority() < 0, "memfd must be asked before regular-file, which claims every regular file");

        Class<?> c = Class.forName(MemoryPluginHandler.class.getName());
        assertTrue(MemoryHandler.class.isAssignableFrom(c), c + " does not implement MemoryHandler");
        // one instance must serve both points: the shared-memory state is released by the listener methods
        assertTrue(LifecycleListener.class.isAssignableFrom(c), c + " does not implement LifecycleListener");
        assertNotNull(c.getAnnotation(Extension.class), c + " lacks @Extension");
        MemoryHandler h = (MemoryHandler) c.getDeclaredConstructor().newInstance();
        assertEquals("memory", h.kind());
        assertEquals(List.of(VmaEntry.getDescriptor()), h.recordTypes());
    }
}
