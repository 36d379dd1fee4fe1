package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.ObjectId;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --external} values against the objects outside the tree the tree refers to. */
class ExternalMatchTest {
    @Test
    void typeAndIdNameAnObjectWhoseKindBeginsWithTheType() {
        assertTrue(Dumper.externalMatches("pipe:[7]", new ObjectId("pipe-write", 7)));
        assertTrue(Dumper.externalMatches("unix:[41235]", new ObjectId("unix", 41235)));
        assertFalse(Dumper.externalMatches("pipe:[8]", new ObjectId("pipe-write", 7)));
        assertFalse(Dumper.externalMatches("unix:[7]", new ObjectId("pipe-write", 7)));
    }

    @Test
    void aValueMatchingNothingIsAUsageErrorListingWhatIsOutside() throws CryoException {
        Dumper.checkExternalMatches("pipe:[7]", Set.of(new ObjectId("pipe-read", 7)));
        CryoException e = assertThrows(CryoException.class,
                () -> Dumper.checkExternalMatches("pipe:[1]", Set.of(new ObjectId("pipe-read", 7))));
        assertEquals("core/EXTERNAL_UNMATCHED", e.code());
        assertEquals(CryoException.Category.USAGE, e.category());
        assertTrue(e.getMessage().contains("--external pipe:[1] matches nothing"), e.getMessage());
        assertTrue(e.getMessage().contains("pipe-read:[7]"), e.getMessage());
    }
}
