package dev.cryo.plugin.memory;

import dev.cryo.api.CryoException;
import dev.cryo.api.Mapping;
import dev.cryo.api.Pid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class MappingKindTest {
    /** Runs a dump check that must refuse with {@code code} as UNSUPPORTED; returns the refusal. */
    private static CryoException unsupported(String code, Executable check) {
        CryoException e = assertThrows(CryoException.class, check);
        assertEquals(code, e.code());
        assertEquals(CryoException.Category.UNSUPPORTED, e.category());
        return e;
    }

    static Mapping map(String perms, long inode, String name) {
        int prot = (perms.charAt(0) == 'r' ? 1 : 0) | (perms.charAt(1) == 'w' ? 2 : 0) | (perms.charAt(2) == 'x' ? 4 : 0);
        return new Mapping(0x7f0000000000L, 0x7f0000004000L, prot, perms.charAt(3) == 's', 0,
                inode == 0 ? "00:00" : "fd:01", inode, name, Set.of("rd", "mr", "mw", "me"));
    }

    @Test
    void classifiesTheMappingsOfOrdinaryProcesses() {
        assertEquals(MappingKind.ANON_PRIVATE, MappingKind.of(map("rw-p", 0, "[heap]")));
        assertEquals(MappingKind.ANON_PRIVATE, MappingKind.of(map("rw-p", 0, "[stack]")));
        assertEquals(MappingKind.ANON_PRIVATE, MappingKind.of(map("rw-p", 0, "")));
        assertEquals(MappingKind.ANON_PRIVATE, MappingKind.of(map("---p", 0, "")));
        assertEquals(MappingKind.ANON_PRIVATE, MappingKind.of(map("rw-p", 0, "[anon:glibc malloc]")));
        assertEquals(MappingKind.FILE_PRIVATE, MappingKind.of(map("r-xp", 1234, "/usr/lib/x86_64-linux-gnu/libc.so.6")));
        assertEquals(MappingKind.FILE_PRIVATE, MappingKind.of(map("rw-p", 1234, "/usr/lib/x86_64-linux-gnu/libc.so.6")));
        assertEquals(MappingKind.FILE_SHARED, MappingKind.of(map("rw-s", 1234, "/var/lib/app/data.db")));
        assertEquals(MappingKind.ANON_SHARED, MappingKind.of(map("rw-s", 5678, "/dev/zero (deleted)")));
        assertEquals(MappingKind.ANON_SHARED, MappingKind.of(map("rw-s", 32769, "/SYSV00000000 (deleted)")));
        assertEquals(MappingKind.ANON_SHARED, MappingKind.of(map("rw-s", 5678, "[anon_shmem:ring]")));
        // a shared memfd is shmem like MAP_SHARED|MAP_ANONYMOUS (and is what restore turns those into)
        assertEquals(MappingKind.ANON_SHARED, MappingKind.of(map("rw-s", 77, "/memfd:cryo-shmem (deleted)")));
        assertEquals(MappingKind.ANON_SHARED, MappingKind.of(map("r--s", 77, "/memfd:wayland (deleted)")));
        assertEquals(MappingKind.FILE_PRIVATE, MappingKind.of(map("rw-p", 77, "/memfd:jit (deleted)")));
        // a private mapping of /dev/zero is anonymous memory behind a file that always exists
        assertEquals(MappingKind.FILE_PRIVATE, MappingKind.of(map("rw-p", 5, "/dev/zero")));
    }

    @Test
    void probeDeclinesKernelAreasAndAnonymousInodes() {
        MemoryPluginHandler h = new MemoryPluginHandler();
        assertFalse(h.probe(map("r-xp", 0, "[vdso]")));
        assertFalse(h.probe(map("r--p", 0, "[vvar]")));
        assertFalse(h.probe(map("r--p", 0, "[vvar_vclock]")));
        assertFalse(h.probe(map("--xp", 0, "[vsyscall]")));
        assertFalse(h.probe(map("rw-s", 9, "anon_inode:[io_uring]")));
        assertTrue(h.probe(map("rw-p", 0, "[heap]")));
        assertTrue(h.probe(map("rw-s", 5678, "/dev/zero (deleted)")));
        assertTrue(h.probe(map("r-xp", 1234, "/usr/bin/bash")));
        assertTrue(h.probe(map("rw-s", 77, "/memfd:wayland (deleted)")));
    }

    @Test
    void deletedFileMappingsAreRefusedNamingProcessRangeAndPath() {
        Mapping deleted = map("rw-s", 77, "/tmp/app.db (deleted)");
        CryoException e = unsupported("memory/DELETED_FILE",
                () -> MemoryPluginHandler.checkNotDeleted(Pid.of(812), "weston", deleted));
        assertTrue(e.getMessage().contains("pid 812 \"weston\""), e.getMessage());
        assertTrue(e.getMessage().contains("7f0000000000-7f0000004000"), e.getMessage());
        assertTrue(e.getMessage().contains(" /tmp/app.db,"), e.getMessage());

        Mapping privateMemfd = map("rw-p", 77, "/memfd:jit (deleted)");
        CryoException p = unsupported("memory/PRIVATE_MEMFD",
                () -> MemoryPluginHandler.checkNotDeleted(Pid.of(812), "weston", privateMemfd));
        assertTrue(p.getMessage().contains("memfd /memfd:jit privately"), p.getMessage());
        assertTrue(p.fix().contains("MAP_SHARED"), p.fix());

        Mapping lib = map("r-xp", 1234, "/usr/lib/libfoo.so (deleted)");
        assertThrows(CryoException.class, () -> MemoryPluginHandler.checkNotDeleted(Pid.of(1), "x", lib));
        assertDoesNotThrow(() -> MemoryPluginHandler.checkNotDeleted(Pid.of(1), "x", map("r-xp", 1234, "/usr/bin/x")));
    }

    @Test
    void sysVSharedMemoryIsRefusedNamingTheSegment() {
        Mapping sysv = map("rw-s", 32769, "/SYSV0000abcd (deleted)");
        CryoException e = unsupported("memory/SYSV_SHM",
                () -> MemoryPluginHandler.checkNotSysV(Pid.of(812), "postgres", sysv));
        assertTrue(e.getMessage().contains("pid 812 \"postgres\" has SysV shared memory segment /SYSV0000abcd"),
                e.getMessage());
        assertTrue(e.fix().contains("sysv-shm"), e.fix());
        assertDoesNotThrow(() -> MemoryPluginHandler.checkNotSysV(Pid.of(1), "x", map("rw-s", 5, "/dev/zero (deleted)")));
    }
}
