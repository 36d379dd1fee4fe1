/**
 * The plugin test kit: a JUnit 5 extension ({@link dev.cryo.testkit.CryoTestKit}) that starts a real workload,
 * dumps and restores it with the real {@code bin/cryo} of a copy of a cryo distribution holding the plugin under
 * test, and hands the test what the restored process reports.
 *
 * <p>The workload protocol, in any language: the program prints a line starting with {@code READY} (flushed) once
 * it holds the resource under test, then waits until the file named by the environment variable
 * {@code CRYO_KIT_GO} exists (the kit creates it once the restored tree runs), then checks that the resource still
 * works, prints what it found (one flushed line per finding) and exits 0 when all is well, non-zero otherwise.
 * Its stdin is {@code /dev/null}, its stdout and stderr are files, it runs in its own session, and it inherits no
 * other fd from the test JVM.
 *
 * <p>Serves the test stage of a plugin's build; it never runs inside cryo.
 */
package dev.cryo.testkit;
