package dev.cryo.plugin.memory;

import dev.cryo.api.FdHandler;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.MemoryHandler;
import dev.cryo.plugin.memory.proto.VmaEntry;
import dev.cryo.testkit.ExtensionIndex;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PF4J finds extensions only through the generated index; a missing or empty index loses them silently. */
class MemoryExtensionIndexTest {
    @Test
    void theHandlerIsListedInTheExtensionIndex() throws Exception {
        // PF4J's processor lists a class once per extension point it implements; PF4J reads the index as a set
        List<Object> extensions = ExtensionIndex.extensions(MemoryPluginHandler.class);
        assertEquals(List.of(MemfdHandler.class, MemoryPluginHandler.class), ExtensionIndex.classes(extensions));
        FdHandler memfd = (FdHandler) extensions.get(0);
        assertEquals("memfd", memfd.kind());
        assertTrue(memfd.priority() < 0, "memfd must be asked before regular-file, which claims every regular file");

        Object memory = extensions.get(1);
        // one instance must serve both points: the shared-memory state is released by the listener methods
        assertTrue(memory instanceof LifecycleListener, memory.getClass() + " does not implement LifecycleListener");
        MemoryHandler h = (MemoryHandler) memory;
        assertEquals("memory", h.kind());
        assertEquals(List.of(VmaEntry.getDescriptor()), h.recordTypes());
    }
}
