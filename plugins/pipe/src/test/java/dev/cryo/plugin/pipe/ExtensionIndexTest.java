package dev.cryo.plugin.pipe;

import dev.cryo.api.ExternalPeerHandler;
import dev.cryo.api.FdHandler;
import dev.cryo.testkit.ExtensionIndex;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * PF4J finds extensions only through META-INF/extensions.idx, written by pf4j's annotation processor; without
 * it core finds nothing in this plugin. This reads the index the build wrote into target/classes.
 */
class ExtensionIndexTest {
    @Test
    void theIndexListsTheExtension() throws Exception {
        List<Object> extensions = ExtensionIndex.extensions(PipeHandler.class);
        assertEquals(List.of(ExternalPipeHandler.class, PipeHandler.class), ExtensionIndex.classes(extensions));
        assertEquals("pipe", ((ExternalPeerHandler) extensions.get(0)).kind());
        assertEquals("pipe", ((FdHandler) extensions.get(1)).kind());
    }
}
