package dev.cryo.plugin.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cryo.api.SyscallFlags;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class VmaFlagsTest {

    private static List<String> advised(Set<String> flags, MappingKind kind) {
        return VmaFlags.advices(flags, kind).stream().map(a -> a.flag() + (a.strict() ? "!" : "?")).toList();
    }

    @Test
    void plainMemoryGetsNothing() {
        Set<String> f = Set.of("rd", "wr", "mr", "mw", "me", "ac", "sd");
        assertEquals(List.of(), advised(f, MappingKind.ANON_PRIVATE));
        assertEquals(SyscallFlags.MAP_PRIVATE, VmaFlags.mapFlags(f, false));
        assertEquals(-1, VmaFlags.mlockFlags(f));
    }

    @Test
    void everyAdviceInOneOrderDontforkAndWipeonforkStrict() {
        Set<String> f = Set.of("rd", "wr", "dc", "wf", "hg", "nh", "dd", "mg", "sr", "rr");
        assertEquals(List.of("dc!", "wf!", "hg?", "nh?", "dd?", "mg?", "sr?", "rr?"),
                advised(f, MappingKind.ANON_PRIVATE));
        // MADV_WIPEONFORK exists for private anonymous memory only
        assertEquals(List.of("dc!", "dd?"), advised(Set.of("dc", "wf", "dd"), MappingKind.FILE_PRIVATE));
    }

    @Test
    void droppableIsAMappingTypeThatBringsItsOwnWipeonforkAndDontdump() {
        Set<String> f = Set.of("rd", "wr", "mr", "mw", "me", "nr", "wf", "dd", "dp");
        assertEquals(MemorySyscalls.MAP_DROPPABLE | MemorySyscalls.MAP_NORESERVE, VmaFlags.mapFlags(f, false));
        assertEquals(List.of(), advised(f, MappingKind.ANON_PRIVATE));
    }

    @Test
    void mapFlags() {
        assertEquals(SyscallFlags.MAP_SHARED | MemorySyscalls.MAP_NORESERVE, VmaFlags.mapFlags(Set.of("nr"), true));
        assertEquals(SyscallFlags.MAP_PRIVATE | MemorySyscalls.MAP_GROWSDOWN, VmaFlags.mapFlags(Set.of("gd"), false));
    }

    @Test
    void lockedAndLockedOnFault() {
        assertEquals(0, VmaFlags.mlockFlags(Set.of("rd", "lo")));
        assertEquals(MemorySyscalls.MLOCK_ONFAULT, VmaFlags.mlockFlags(Set.of("lo", "lf")));
    }
}
