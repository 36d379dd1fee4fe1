/**
 * The {@code tty} plugin: pseudo-terminal pairs whose master and slave the dumped tree holds ({@link
 * dev.cryo.plugin.tty.PtyHandler}). Dump: the tree's ptys are read from {@code /proc} once it is frozen
 * ({@link dev.cryo.plugin.tty.TreePtys}), each pair's settings with ioctls on duplicates of its fds in cryo's own
 * process; restore: the pair is created again with its index in cryo's own process and its fds pushed into the
 * restored processes, the controlling terminal set by the session leader.
 */
package dev.cryo.plugin.tty;
