package dev.cryo.plugin.unixsocket;

import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExtUnixSkTest {
    /** key → values; a key mapped to an empty list is a bare flag. */
    private static Config config(Map<String, List<String>> entries) {
        return new Config() {
            @Override
            public Optional<String> value(String key) {
                List<String> v = entries.getOrDefault(key, List.of());
                return v.isEmpty() ? Optional.empty() : Optional.of(v.get(v.size() - 1));
            }

            @Override
            public List<String> values(String key) {
                return entries.getOrDefault(key, List.of());
            }

            @Override
            public boolean isSet(String key) {
                return entries.containsKey(key);
            }
        };
    }

    @Test
    void listedInodes() {
        assertEquals(Set.of(), ExtUnixSk.listed(config(Map.of("ext-unix-sk", List.of()))));
        assertEquals(Set.of(5L, 6L), ExtUnixSk.listed(config(Map.of("ext-unix-sk", List.of("5, 6")))));
        assertEquals("--ext-unix-sk=5,6", ExtUnixSk.spelled(config(Map.of("ext-unix-sk", List.of("5,6")))));
    }

    @Test
    void pluginSwitchedOffByEitherKey() {
        assertEquals(Optional.empty(), ExtUnixSk.pluginSwitchedOff(config(Map.of())));
        assertTrue(ExtUnixSk.pluginSwitchedOff(config(Map.of("plugins.disabled", List.of("pipe,external-unix-socket"))))
                .isPresent());
        assertTrue(ExtUnixSk.pluginSwitchedOff(config(Map.of("plugins.enabled", List.of("memory,unix-socket"))))
                .isPresent());
        assertEquals(Optional.empty(), ExtUnixSk.pluginSwitchedOff(config(Map.of("plugins.enabled",
                List.of("memory", "external-unix-socket")))));
    }

    @Test
    void optionWithoutPluginIsRefusedNamingIt() {
        CryoException e = assertThrows(CryoException.class, () -> ExtUnixSk.checkPluginFor(config(Map.of(
                "ext-unix-sk", List.of(), "plugins.disabled", List.of("external-unix-socket"))), "dump"));
        assertEquals("unix-socket/EXT_UNIX_SK_WITHOUT_PLUGIN", e.code());
        assertTrue(e.getMessage().contains("external-unix-socket"), e.getMessage());
        assertTrue(e.fix().contains("plugins.disabled"), e.fix());
        assertDoesNotThrow(() -> ExtUnixSk.checkPluginFor(config(Map.of("plugins.disabled",
                List.of("external-unix-socket"))), "dump"));
    }
}
