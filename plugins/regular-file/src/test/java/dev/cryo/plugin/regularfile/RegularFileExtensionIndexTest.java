package dev.cryo.plugin.regularfile;

import dev.cryo.api.FdHandler;
import dev.cryo.plugin.regularfile.proto.RegularFileEntry;
import dev.cryo.testkit.ExtensionIndex;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** PF4J finds extensions only through the generated index; a missing or empty index loses them silently. */
class RegularFileExtensionIndexTest {
    @Test
    void theHandlerIsListedInTheExtensionIndex() throws Exception {
        List<Object> extensions = ExtensionIndex.extensions(RegularFileHandler.class);
        assertEquals(List.of(RegularFileHandler.class), ExtensionIndex.classes(extensions));
        FdHandler h = (FdHandler) extensions.get(0);
        assertEquals("regular-file", h.kind());
        assertEquals(List.of(RegularFileEntry.getDescriptor()), h.recordTypes());
    }
}
