package com.example.cryo.pidfd;

import dev.cryo.api.FdHandler;
import dev.cryo.api.PluginOption;
import dev.cryo.testkit.ExtensionIndex;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * PF4J finds extensions only through META-INF/extensions.idx, written by pf4j's annotation processor (set up by
 * cryo-plugin-parent); without it cryo would find nothing in this plugin and refuse it. The test kit's
 * {@link ExtensionIndex} reads it. Also checks the option declaration cryo reads from the class file.
 */
class ExtensionIndexTest {
    @Test
    void theIndexListsTheHandlerAndItsOption() throws Exception {
        List<Object> extensions = ExtensionIndex.extensions(PidfdHandler.class);
        assertEquals(List.of(PidfdHandler.class), ExtensionIndex.classes(extensions));
        assertEquals("example/pidfd", ((FdHandler) extensions.get(0)).kind());
        PluginOption option = PidfdHandler.class.getAnnotation(PluginOption.class);
        assertEquals("pidfd-outside-tree", option.name());
        assertArrayEquals(new PluginOption.Command[] {PluginOption.Command.DUMP}, option.commands());
    }
}
