package dev.cryo.core.plugin;

import org.junit.jupiter.api.Test;
import org.pf4j.DefaultVersionManager;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class CryoPluginManagerTest {
    /** The fast check answers exactly as PF4J's expression parser for every form it takes. */
    @Test
    void simpleConstraintsAgreeWithPf4j() {
        DefaultVersionManager pf4j = new DefaultVersionManager();
        List<String> constraints = List.of(">=1.6.0 & <2.0.0", ">=1.6.0", ">1.6.0", "<=1.6.0", "<1.6.0", "=1.6.0",
                ">=1.5.9 & <1.6.1", ">=1.7.0 & <2.0.0", ">=1.0.0 & <1.6.0", ">= 1.6.0 & < 2.0.0", ">=1.10.0",
                ">1.5.10", "<1.6.0 & >=1.0.0", ">=0.9.0 & <=1.6.0 & >1.2.3");
        for (String version : List.of("1.6.0", "1.5.10", "2.0.0", "1.10.1", "0.0.1")) {
            for (String c : constraints) {
                Boolean fast = CryoPluginManager.simpleConstraint(c, CryoPluginManager.plainVersion(version, true));
                assertEquals(pf4j.checkVersionConstraint(version, c), fast, version + " against " + c);
                assertEquals(fast, new CryoPluginManager.FastVersionManager().checkVersionConstraint(version, c));
            }
        }
    }

    /** Any other form is left to PF4J's parser, which the manager then asks. */
    @Test
    void otherFormsAreLeftToPf4j() {
        int[] v = CryoPluginManager.plainVersion("1.6.0", true);
        DefaultVersionManager pf4j = new DefaultVersionManager();
        for (String c : List.of(">=1.6.0-rc.1", "~1.6.0", "^1.6.0", ">=1.6.0 | <2.0.0", "!=1.6.0",
                "(>=1.6.0)", ">=1.6.0 & (<2.0.0 | >3.0.0)", "1.6.x", "", "*", "=>1.6.0", ">=1.6",
                ">=1.6.0 && <2.0.0", ">=01.6.0", ">=1.6.0 & ", ">=1.6.0\u3000", "\u2028>=1.6.0", ">=1.6.0\u001f")) {
            assertNull(CryoPluginManager.simpleConstraint(c, v), c);
            boolean expected;
            try {
                expected = pf4j.checkVersionConstraint("1.6.0", c);
            } catch (RuntimeException e) {
                continue; // PF4J's parser refuses it: the manager throws the same, checked elsewhere
            }
            assertEquals(expected, new CryoPluginManager.FastVersionManager().checkVersionConstraint("1.6.0", c), c);
        }
    }

    @Test
    void plainVersions() {
        assertEquals(List.of(1, 10, 0), toList(CryoPluginManager.plainVersion("1.10.0", true)));
        assertNull(CryoPluginManager.plainVersion("1.6", true));
        assertNull(CryoPluginManager.plainVersion("1.6.0.1", true));
        assertNull(CryoPluginManager.plainVersion("1.6.-1", true));
        assertNull(CryoPluginManager.plainVersion("01.6.0", true));
        assertEquals(3, CryoPluginManager.plainVersion("01.6.0", false).length); // normalised like \d+.\d+.\d+
        assertNull(CryoPluginManager.plainVersion("1.6.0 ", false));
        assertNull(CryoPluginManager.plainVersion(null, true));
        assertNull(CryoPluginManager.simpleConstraint(">=1.0.0", null));
        assertEquals(true, CryoPluginManager.simpleConstraint(" \t>=1.0.0\r\n", new int[] {1, 6, 0}));
    }

    private static List<Integer> toList(int[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }
}
