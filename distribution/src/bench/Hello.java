/** The JVM start-up floor of bench/targets.sh: a JVM that prints one line, run with bin/cryo's JVM options. */
public final class Hello {
    public static void main(String[] args) {
        System.out.println("hello");
    }
}
