package com.example.cryo.pidfd;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PidfdFdinfoTest {
    private static final String HEAD = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t102605\n";

    @Test
    void aLiveProcess() {
        PidfdFdinfo i = PidfdFdinfo.parse(HEAD + "Pid:\t4121\nNSpid:\t4121\n");
        assertEquals(4121, i.pid());
        assertEquals(List.of(4121), i.nsPids());
    }

    @Test
    void aProcessInANestedPidNamespace() {
        assertEquals(List.of(4121, 7, 1), PidfdFdinfo.parse(HEAD + "Pid:\t4121\nNSpid:\t4121\t7\t1\n").nsPids());
    }

    @Test
    void anExitedAndReapedProcessIsMinusOne() {
        PidfdFdinfo i = PidfdFdinfo.parse(HEAD + "Pid:\t-1\nNSpid:\t-1\n");
        assertTrue(i.exited());
        assertEquals(List.of(), i.nsPids());
    }

    @Test
    void aProcessOfAnInvisibleNamespaceIsZero() {
        assertTrue(PidfdFdinfo.parse(HEAD + "Pid:\t0\n").invisible());
    }

    @Test
    void noPidLineIsAnOldKernelOrNoPidfd() {
        assertThrows(IllegalArgumentException.class, () -> PidfdFdinfo.parse(HEAD));
    }
}
