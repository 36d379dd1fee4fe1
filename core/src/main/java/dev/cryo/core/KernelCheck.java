package dev.cryo.core;

/**
 * One kernel feature {@code cryo check} probes.
 *
 * @param feature e.g. {@code ptrace seize}, {@code pidfd_getfd}
 * @param ok      whether it works here
 * @param detail  what was tried and, when missing, the errno
 */
public record KernelCheck(String feature, boolean ok, String detail) {
}
