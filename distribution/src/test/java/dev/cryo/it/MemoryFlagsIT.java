package dev.cryo.it;


import org.junit.jupiter.api.Test;

/**
 * Per-mapping memory flags through dump and restore ({@code memory_flags.c}): madvise state (DONTFORK, DONTDUMP,
 * WIPEONFORK, HUGEPAGE, NOHUGEPAGE, MERGEABLE, SEQUENTIAL, RANDOM), mlock and mlock-on-fault, mseal and a
 * MAP_DROPPABLE mapping. The restored program reads its own smaps: every flagged region has its flag and exactly
 * the VmFlags it had, the unflagged regions between them gained none, every page holds its data (WIPEONFORK memory
 * keeps it in the process itself); and it checks the behaviour a forked child sees and that the sealed region
 * refuses mprotect. It is restored twice (a restored process must dump as well as the original).
 */
class MemoryFlagsIT extends WithTestBed {
    @Test
    void madviseLockSealAndDroppableStateComesBackOnlyWhereItWas() {
        Workload w = bed.startVerified("memory_flags");
        bed.dumpAndRestoreTwice(w, 2);
    }
}
