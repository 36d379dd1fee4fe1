package dev.cryo.api;

/**
 * A process or thread id as seen in cryo's pid namespace.
 *
 * @param value the numeric id, always positive
 * @since 1.0.0
 */
public record Pid(int value) {
    public Pid {
        if (value <= 0) {
            throw new IllegalArgumentException("pid must be positive: " + value);
        }
    }

    public static Pid of(int value) {
        return new Pid(value);
    }

    @Override
    public String toString() {
        return Integer.toString(value);
    }
}
