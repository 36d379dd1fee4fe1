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
        FdHandler h = ExtensionIndex.only(RegularFileHandler.class);
        assertEquals("regular-file", h.kind());
        assertEquals(List.of(RegularFileEntry.getDescriptor()), h.recordTypes());
    }
}
