package dev.cryo.plugin.regularfile;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class GhostLimitTest {
    @Test
    void sizesAreBytesOrCriuSuffixes() {
        assertEquals(1 << 20, GhostLimit.parse(GhostLimit.DEFAULT));
        assertEquals(4096, GhostLimit.parse("4096"));
        assertEquals(512 << 10, GhostLimit.parse("512K"));
        assertEquals(512 << 10, GhostLimit.parse("512k"));
        assertEquals(3L << 20, GhostLimit.parse("3M"));
        assertEquals(2L << 30, GhostLimit.parse("2G"));
        assertEquals(0, GhostLimit.parse("0"));
    }

    @Test
    void otherTextIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> GhostLimit.parse("1MB"));
        assertThrows(IllegalArgumentException.class, () -> GhostLimit.parse("-1"));
        assertThrows(IllegalArgumentException.class, () -> GhostLimit.parse("1T"));
        assertThrows(IllegalArgumentException.class, () -> GhostLimit.parse("99999999999999999999G"));
    }

    @Test
    void messagesShowTheSuffixWhenExact() {
        assertEquals("1048576 bytes (1M)", GhostLimit.describe(1 << 20));
        assertEquals("1000 bytes", GhostLimit.describe(1000));
        assertEquals("2048 bytes (2K)", GhostLimit.describe(2048));
    }
}
