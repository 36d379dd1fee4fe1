package dev.cryo.plugin.regularfile;

import dev.cryo.api.FdHandler;
import dev.cryo.plugin.regularfile.proto.RegularFileEntry;
import org.junit.jupiter.api.Test;
import org.pf4j.Extension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** PF4J finds extensions only through the generated index; a missing or empty index loses them silently. */
class RegularFileExtensionIndexTest {
    @Test
    void theHandlerIsListedInTheExtensionIndex() throws Exception {
        Path idx = Path.of("target/classes/META-INF/extensions.idx");
        assertTrue(Files.isRegularFile(idx), "missing " + idx.toAbsolutePath() + " (PF4J annotation processor did not run)");
        List<String> names = Files.readAllLines(idx).stream().map(String::trim)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).distinct().toList();
        assertEquals(List.of(RegularFileHandler.class.getName()), names);

        Class<?> c = Class.forName(names.get(0));
        assertTrue(FdHandler.class.isAssignableFrom(c), c + " does not implement FdHandler");
        assertNotNull(c.getAnnotation(Extension.class), c + " lacks @Extension");
        FdHandler h = (FdHandler) c.getDeclaredConstructor().newInstance();
        assertEquals("regular-file", h.kind());
        assertEquals(List.of(RegularFileEntry.getDescriptor()), h.recordTypes());
    }
}
