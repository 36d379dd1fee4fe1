package dev.cryo.api;

import com.google.protobuf.Any;
import com.google.protobuf.Int64Value;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.StringValue;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AnyRecordsTest {
    @Test
    void unpacksAsAnyDoes() throws Exception {
        Any packed = Any.pack(StringValue.of("x"));
        assertEquals(packed.unpack(StringValue.class), AnyRecords.unpack(packed, StringValue.class));
        for (int i = 0; i < 20; i++) { // past the JDK's reflection inflation threshold: same answers
            assertEquals(StringValue.of("x"), AnyRecords.unpack(packed, StringValue.class));
        }
        Any otherPrefix = Any.pack(StringValue.of("y"), "example.com/a/b");
        assertEquals(otherPrefix.unpack(StringValue.class), AnyRecords.unpack(otherPrefix, StringValue.class));
    }

    @Test
    void refusesWhatAnyRefuses() {
        Any packed = Any.pack(StringValue.of("x"));
        assertThrows(InvalidProtocolBufferException.class, () -> packed.unpack(Int64Value.class));
        assertThrows(InvalidProtocolBufferException.class, () -> AnyRecords.unpack(packed, Int64Value.class));
        Any noSlash = packed.toBuilder().setTypeUrl("google.protobuf.StringValue").build();
        assertThrows(InvalidProtocolBufferException.class, () -> noSlash.unpack(StringValue.class));
        assertThrows(InvalidProtocolBufferException.class, () -> AnyRecords.unpack(noSlash, StringValue.class));
        Any garbage = packed.toBuilder().setValue(com.google.protobuf.ByteString.copyFrom(new byte[] {(byte) 0xff}))
                .build();
        assertThrows(InvalidProtocolBufferException.class, () -> AnyRecords.unpack(garbage, StringValue.class));
    }
}
