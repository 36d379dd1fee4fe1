package dev.cryo.api;

/**
 * An extension that core asks in a declared order, not in plugin-id order. One object has one priority, whatever
 * extension points it implements.
 *
 * @since 1.1.0
 */
public interface Ordered {
    /** The priority of a handler that claims what no other bundled handler claims. */
    int DEFAULT = 0;
    /** The priority of a handler that only refuses what every other handler declined: it is asked last. */
    int LAST_RESORT = 1000;

    /**
     * Where this extension stands among the enabled extensions of the same point: core asks them in ascending
     * priority; ties are broken by plugin id, then by extension class name. A handler that claims a subset of what
     * another claims runs earlier (negative); one that only refuses what all others declined runs last
     * ({@link #LAST_RESORT}). Called once, when plugins load, on the CLI's thread; must be constant.
     */
    default int priority() {
        return DEFAULT;
    }
}
