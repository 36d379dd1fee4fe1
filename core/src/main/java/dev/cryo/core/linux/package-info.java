/**
 * The Linux layer: the JNI bindings of {@code lib/libcryo-linux.so} ({@link dev.cryo.core.linux.LibC}), the tracer thread, ptrace of one task, syscall injection, /proc parsers.
 * x86_64 only. Every native failure becomes a {@link dev.cryo.api.CryoException} of category KERNEL carrying the
 * call and the symbolic errno ({@link dev.cryo.core.linux.Errors}).
 */
package dev.cryo.core.linux;
