package dev.cryo.core.dump;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FdInfosTest {
    @Test
    void fieldsOfAnFdinfoFile() {
        byte[] text = "pos:\t4096\nflags:\t0102002\nmnt_id:\t25\nino:\t7\n".getBytes(StandardCharsets.US_ASCII);
        assertEquals(4096, FdInfos.field(text, text.length, "pos:", 10));
        assertEquals(0102002, FdInfos.field(text, text.length, "flags:", 8));
        assertEquals(25, FdInfos.field(text, text.length, "mnt_id:", 10));
        assertEquals(0, FdInfos.field(text, text.length, "lock:", 10));
    }
}
