/**
 * The {@code pipe} plugin: anonymous pipes and FIFOs with their data in flight (dump: collect and object table;
 * restore: recreate, refill, install), and the policy for pipes that lead outside the dumped tree
 * ({@link dev.cryo.plugin.pipe.ExternalPipeHandler}: {@code --external pipe:[INO]} + {@code --inherit-fd}, or
 * {@code stdio-inherit} for fds 0-2). See {@link dev.cryo.plugin.pipe.PipeHandler} for the whole story.
 */
package dev.cryo.plugin.pipe;
