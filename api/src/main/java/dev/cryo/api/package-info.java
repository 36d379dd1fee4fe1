/**
 * The Cryo SPI: the extension points plugins implement and the contexts core hands them.
 *
 * <p>Serves every pipeline stage. Dump: {@link dev.cryo.api.FdHandler} and {@link dev.cryo.api.MemoryHandler}
 * collect what a frozen process holds, {@link dev.cryo.api.ExternalPeerHandler} is consulted when a reference
 * leaves the tree. Restore: the same handlers rebuild what they recorded inside a process that core has created
 * and holds stopped. {@link dev.cryo.api.LifecycleListener} observes both.
 *
 * <h2>Threading</h2>
 * Every SPI method is called on the pipeline's tracer thread — the one platform thread that owns the ptrace
 * attachment of the tree. {@link dev.cryo.api.RemoteTask} works only on that thread; never hand it to another one.
 * Calls are therefore never concurrent with each other.
 *
 * <h2>Errors</h2>
 * A handler declines by returning a value ({@code false}, {@link java.util.Optional#empty()}); it refuses by
 * throwing {@link dev.cryo.api.CryoException} with a code; any other exception is a bug in the plugin and fails
 * the dump or restore as an internal error. Either way core undoes what it did: a dump resumes the tree and
 * deletes the partial image, a restore kills every process it created.
 *
 * <h2>Compatibility</h2>
 * {@link dev.cryo.api.Spi#VERSION} is checked against each plugin's {@code Plugin-Requires}. Methods added in a
 * minor version are {@code default} methods.
 */
package dev.cryo.api;
