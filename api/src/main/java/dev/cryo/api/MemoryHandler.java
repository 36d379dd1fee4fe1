package dev.cryo.api;

import java.util.List;

/**
 * Dumps and restores the contents and layout of memory mappings.
 *
 * <p>Core keeps the kernel-provided areas ({@code [vdso]}, {@code [vvar]}, {@code [vvar_vclock]},
 * {@code [vsyscall]}) and the mm fields (brk, arg/env, auxv, exe) itself; every other mapping is offered to the
 * enabled memory handlers with {@link #probe} in {@link #priority()} order, and the first that claims it owns
 * it. A mapping nobody claims makes core refuse the dump, naming the mapping.
 *
 * <p>Threading: the tracer thread, never concurrently. Errors: see the package docs.
 *
 * @since 1.0.0
 */
public interface MemoryHandler extends ResourceHandler {
    /** @return the stable kind written into images, e.g. {@code memory}; constant */
    String kind();

    /** Whether this handler takes the mapping. Called once per mapping per process; cheap, no side effects. */
    boolean probe(Mapping mapping);

    /**
     * Records the layout and contents of every mapping this handler claimed in one process. Called once per
     * process (with all its claimed mappings, in address order) so that pages can be saved in large batches.
     *
     * @throws CryoException to refuse a mapping; the dump stops and the tree resumes
     */
    void dump(MemoryDumpContext ctx, List<Mapping> mappings) throws CryoException;

    /**
     * Recreates the mappings recorded by {@link #dump} in the process being rebuilt, at their addresses, with
     * their protection and contents. Called once per process that has records of this kind, after core has
     * cleared the stub's own mappings and placed the kernel areas, before fds are restored.
     *
     * @throws CryoException when a mapping cannot be recreated (a file missing, an address taken)
     */
    void restore(MemoryRestoreContext ctx) throws CryoException;

    /**
     * The address ranges of one process's mappings that this handler would rather find inherited from the process's
     * parent than map anew: private memory the process still shared copy-on-write with its parent at dump. Called
     * once per process with records of this kind, before any process exists. When a child has such ranges, core
     * restores its parent's memory before it forks the child from that parent, and keeps the child's inherited
     * mappings over these ranges when it clears what else the child inherited; {@link #restore} then finds them
     * mapped (with the parent's restored contents) and writes only what differs. A range may also be unmapped when
     * {@link #restore} runs (an older core): a handler must then map and fill it as usual, so the records must hold
     * every page anyway.
     *
     * @param records this handler's records of the process
     * @return ranges {@code [start, end)} in address order; empty by default
     * @since 1.2.0
     */
    default List<Range> inheritedRanges(ImageSource records) throws CryoException {
        return List.of();
    }

    /**
     * An address range {@code [start, end)}, page aligned.
     *
     * @since 1.2.0
     */
    record Range(long start, long end) {
        public Range {
            if (Long.compareUnsigned(start, end) >= 0) {
                throw new IllegalArgumentException("empty or inverted range [" + Long.toHexString(start) + ", "
                        + Long.toHexString(end) + ")");
            }
        }
    }
}
