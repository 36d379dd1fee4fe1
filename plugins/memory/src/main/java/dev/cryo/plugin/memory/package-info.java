/**
 * The {@code memory} plugin: layout and contents of a process's memory mappings (anonymous private and shared
 * memory, private and shared file mappings).
 *
 * <p>Serves the dump stage (collect: {@link dev.cryo.plugin.memory.MemoryPluginHandler#dump}) and the restore
 * stage (rebuild each process: {@link dev.cryo.plugin.memory.MemoryPluginHandler#restore}). The pure decisions
 * (which kind a mapping is, which pages to keep, whether a mapped file is still usable) live in
 * {@link dev.cryo.plugin.memory.MappingKind}, {@link dev.cryo.plugin.memory.PageRuns} and
 * {@link dev.cryo.plugin.memory.MappedFileCheck} so they can be tested without a live process. Shared memory spans
 * processes: {@code SharedMemoryDump} (each shmem object saved once per dump) and {@code SharedMemoryRestore} (one
 * memfd per object per restore) hold that state for one command.
 */
package dev.cryo.plugin.memory;
