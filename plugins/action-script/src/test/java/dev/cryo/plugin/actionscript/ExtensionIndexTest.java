package dev.cryo.plugin.actionscript;

import dev.cryo.api.LifecycleListener;
import dev.cryo.api.PluginOption;
import dev.cryo.testkit.ExtensionIndex;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PF4J finds extensions only through META-INF/extensions.idx; this reads the one the build wrote. */
class ExtensionIndexTest {
    @Test
    void theIndexListsTheListenerWithItsOption() throws Exception {
        ActionScriptListener extension = ExtensionIndex.only(ActionScriptListener.class);
        assertTrue(extension instanceof LifecycleListener);
        PluginOption option = ActionScriptListener.class.getAnnotation(PluginOption.class);
        assertNotNull(option, "@PluginOption on " + ActionScriptListener.class);
        assertEquals("action-script", option.name());
        assertTrue(option.repeatable());
        assertEquals(PluginOption.Shape.VALUE, option.shape());
    }
}
