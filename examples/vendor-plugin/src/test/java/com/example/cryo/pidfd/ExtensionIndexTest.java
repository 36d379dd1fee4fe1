package com.example.cryo.pidfd;

import dev.cryo.api.FdHandler;
import dev.cryo.api.PluginOption;
import org.junit.jupiter.api.Test;
import org.pf4j.Extension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PF4J finds extensions only through META-INF/extensions.idx, written by pf4j's annotation processor (set up by
 * cryo-plugin-parent); without it cryo would find nothing in this plugin and refuse it. Also checks the option
 * declaration cryo reads from the class file.
 */
class ExtensionIndexTest {
    @Test
    void theIndexListsTheHandlerAndItsOption() throws Exception {
        Path classes = Path.of(PidfdHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path index = classes.resolve("META-INF/extensions.idx");
        assertTrue(Files.isRegularFile(index), index + " is missing: pf4j's annotation processor did not run");
        List<String> names = Files.readAllLines(index, StandardCharsets.UTF_8).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertEquals(List.of(PidfdHandler.class.getName()), names);

        Class<?> c = Class.forName(names.get(0));
        assertNotNull(c.getAnnotation(Extension.class));
        FdHandler h = (FdHandler) c.getDeclaredConstructor().newInstance();
        assertEquals("example/pidfd", h.kind());
        PluginOption option = c.getAnnotation(PluginOption.class);
        assertEquals("pidfd-outside-tree", option.name());
        assertArrayEquals(new PluginOption.Command[] {PluginOption.Command.DUMP}, option.commands());
    }
}
