/**
 * The restore pipeline: validate the image, create each process with its dumped pid from cryo's stub, rebuild it
 * from the outside with injected system calls (memory and fds through the plugins), then resume it. Any failure
 * before the resume kills every process this restore created.
 */
package dev.cryo.core.restore;
