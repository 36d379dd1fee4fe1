package com.example.cryo.pidfd;

import dev.cryo.api.CryoException;
import dev.cryo.api.LocalFd;
import dev.cryo.api.Pid;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.Syscall;
import dev.cryo.api.TargetFd;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * A {@link RemoteTask} that records the system calls injected into it ({@code calls}) and answers them from a
 * function; its {@code pid} and {@code procDir} are what {@link RemoteTask} asks for.
 */
record FakeTask(Pid pid, Path procDir, ToLongFunction<Syscall> answers, List<String> calls) implements RemoteTask {
    FakeTask(int pid, Path procDir, ToLongFunction<Syscall> answers) {
        this(Pid.of(pid), procDir, answers, new ArrayList<>());
    }

    @Override
    public String comm() {
        return "holder";
    }

    @Override
    public long syscall(String what, Syscall call, long... args) throws CryoException {
        long r = syscallRaw(call, args);
        if (r < 0) {
            throw CryoException.kernel("test/SYSCALL", what, (int) -r);
        }
        return r;
    }

    @Override
    public long syscallRaw(Syscall call, long... args) {
        calls.add(call.callName() + Arrays.toString(args));
        return answers.applyAsLong(call);
    }

    @Override
    public long readMemory(long address, ByteBuffer dst) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void writeMemory(long address, ByteBuffer src) {
        throw new UnsupportedOperationException();
    }

    @Override
    @SuppressWarnings("deprecation")
    public long syscall(String what, int nr, long... args) {
        throw new UnsupportedOperationException("numbered system calls are deprecated");
    }

    @Override
    @SuppressWarnings("deprecation")
    public long syscallRaw(int nr, long... args) {
        throw new UnsupportedOperationException("numbered system calls are deprecated");
    }

    @Override
    public long scratchAddress() {
        return 0x10000;
    }

    @Override
    public int scratchSize() {
        return 4096;
    }

    @Override
    public LocalFd pullFd(TargetFd fd) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void pushFd(LocalFd fd, TargetFd at, boolean cloexec) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long[] pagemap(long start, long end) {
        throw new UnsupportedOperationException();
    }
}
