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


}
