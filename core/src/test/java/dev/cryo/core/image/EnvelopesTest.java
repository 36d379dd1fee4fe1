package dev.cryo.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import dev.cryo.api.CryoException;
import dev.cryo.core.image.proto.Envelope;
import dev.cryo.core.image.proto.PluginRef;
import dev.cryo.core.image.proto.PstreeEntry;
import org.junit.jupiter.api.Test;

/**
 * Envelopes packs and unpacks without protobuf's {@code getDescriptorForType()} (issue 13): what it writes must be
 * exactly what {@link Any#pack} writes, and it must accept and refuse exactly what {@link Any#is} does.
 */
class EnvelopesTest {
    private static final PstreeEntry TASK = PstreeEntry.newBuilder().setPid(812).setPpid(1).build();

    @Test
    void packWritesWhatAnyPackWrites() {
        assertArrayEquals(Any.pack(TASK).toByteArray(), Envelopes.pack(TASK).toByteArray());
        assertEquals(Envelope.newBuilder().setKind("k").setRecord(Any.pack(TASK)).build(), Envelopes.wrap("k", TASK));
    }

    @Test
    void unpackGivesTheRecordBack() throws CryoException {
        assertEquals(TASK, Envelopes.unwrap(Envelopes.wrap("k", TASK), PstreeEntry.class, "test"));
        assertEquals(TASK, Envelopes.unpack(Any.pack(TASK, "example.com/types"), PstreeEntry.class, "test"));
    }

    @Test
    void holdsAgreesWithAnyIs() {
        for (String url : new String[] {"type.googleapis.com/cryo.core.PstreeEntry", "x/cryo.core.PstreeEntry",
            "cryo.core.PstreeEntry", "type.googleapis.com/cryo.core.PluginRef", "type.googleapis.com/xcryo.core.PstreeEntry",
            "", "/"}) {
            Any any = Any.newBuilder().setTypeUrl(url.replace("cryo.core.PstreeEntry",
                    PstreeEntry.getDescriptor().getFullName())).build();
            assertEquals(any.is(PstreeEntry.class), Envelopes.holds(any, PstreeEntry.class), url);
        }
        assertTrue(Envelopes.holds(Any.pack(TASK), PstreeEntry.class));
        assertFalse(Envelopes.holds(Any.pack(TASK), PluginRef.class));
    }

    @Test
    void anotherTypeIsRefusedNamingBoth() {
        CryoException e = assertThrows(CryoException.class,
                () -> Envelopes.unpack(Any.pack(TASK), PluginRef.class, "pstree.img record 0"));
        assertEquals("core/IMAGE_RECORD_TYPE", e.code());
        assertTrue(e.getMessage().contains(PstreeEntry.getDescriptor().getFullName()), e.getMessage());
        assertTrue(e.getMessage().contains(PluginRef.getDescriptor().getFullName()), e.getMessage());
    }
}
