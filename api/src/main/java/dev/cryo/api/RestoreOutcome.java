package dev.cryo.api;

/**
 * Answer of a restore step.
 *
 * @since 1.0.0
 */
public enum RestoreOutcome {
    /** The fd is installed. */
    DONE,
    /** Another object must exist first; core calls again after the others of this round. */
    RETRY_LATER
}
