/**
 * The {@code sysv-shm} plugin: SysV shared memory segments attached by the tree. See
 * {@link dev.cryo.plugin.sysvshm.SysvShmHandler}.
 */
package dev.cryo.plugin.sysvshm;
