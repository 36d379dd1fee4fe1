package dev.cryo.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/**
 * What every integration test class shares: a fresh {@link TestBed} per test in its own temporary directory, closed
 * (every process it started killed and reaped) after the test.
 */
abstract class WithTestBed {
    @TempDir
    Path tmp;
    TestBed bed;

    @BeforeEach
    void openBed() {
        bed = new TestBed(tmp);
    }

    @AfterEach
    void closeBed() {
        bed.close();
    }
}
