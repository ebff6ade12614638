package org.hope4j.device;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Bench's arithmetic that needs no model: two timed reads combined into one. */
class BenchTest {
    @Test
    void combinedRatesAreOverTheBytesAndTimesOfBothRuns() {
        // a: 1000 bytes in 2 s wall and 1 s CPU, first part at 700 bytes/s; b: 3000 bytes in 2 s wall and 4 s CPU
        double[] a = {500, 700, 1000, 1000};
        double[] b = {1500, 0, 3000, 750};
        double[] c = Bench.combined(a, b);
        assertArrayEquals(new double[] {4000 / 4.0, 700, 4000, 4000 / 5.0}, c, 1e-9);
        // neither order nor a run of its own changes the totals; the first part always comes from the first run
        assertEquals(c[3], Bench.combined(new double[] {1500, 9, 3000, 750}, a)[3], 1e-9);
        assertEquals(9, Bench.combined(new double[] {1500, 9, 3000, 750}, a)[1]);
    }
}
