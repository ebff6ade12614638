package org.hope4j.level;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A memory level refuses a shape it cannot run (it divided dModel by heads and read past arrays before). */
class MemoryLevelTest {
    private static final Blas NONE = new Blas() {
        @Override
        public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c) {
            throw new AssertionError("not called");
        }

        @Override
        public String describe() {
            return "none";
        }
    };

    private static MemoryLevel level(int d, int h, int chunk, int memLength, int biasLength) {
        return new MemoryLevel(NONE, d, h, chunk, 0.1f, 1e-6f, new float[memLength], new float[biasLength], new float[biasLength]);
    }

    @Test
    void aWellShapedLevelIsBuilt() {
        int d = 8;
        int h = 2;
        int dh = d / h;
        level(d, h, 16, h * (3 * dh + 2 * MemoryLevel.TYPES) * dh, h * MemoryLevel.TYPES);
    }

    @Test
    void aWidthThatIsNotAMultipleOfTheHeadsIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> level(10, 3, 16, 1000, 15));
        assertTrue(e.getMessage().contains("dModel 10, heads 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> level(8, 0, 16, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> level(8, 2, 0, 2 * 22 * 4, 10));
    }

    @Test
    void arraysOfTheWrongLengthAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> level(8, 2, 16, 7, 10));
        assertTrue(e.getMessage().contains("mem must hold 176 values, found 7"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> level(8, 2, 16, 176, 9));
        assertTrue(e.getMessage().contains("bEta"), e.getMessage());
    }
}
