package dev.cryo.plugin.inetsocket;

import dev.cryo.api.FdHandler;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.PluginOption;
import dev.cryo.testkit.ExtensionIndex;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PF4J finds the extension only through META-INF/extensions.idx; the options are declared on it. */
class ExtensionIndexTest {
    @Test
    void theIndexListsTheExtensionAndItDeclaresCriusOptions() throws Exception {
        Object h = ExtensionIndex.only(InetSocketHandler.class);
        assertTrue(h instanceof FdHandler && h instanceof LifecycleListener);
        assertEquals("inet-socket", ((FdHandler) h).kind());
        List<String> options = Arrays.stream(InetSocketHandler.class.getAnnotationsByType(PluginOption.class))
                .map(PluginOption::name).toList();
        assertEquals(List.of("tcp-established", "tcp-close", "skip-in-flight"), options);
    }
}
