package org.hope4j.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TensorTest {

    @Test
    void shapeProductMustEqualDataLength() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Tensor("blocks.0.l1.up", new int[] {4, 8}, new float[31]));
        assertEquals("tensor blocks.0.l1.up: shape [4, 8] holds 32 values but data has 31", e.getMessage());
    }

    @Test
    void negativeDimensionIsRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Tensor("x", new int[] {2, -1}, new float[0]));
        assertEquals("tensor x: shape [2, -1] has a negative dimension", e.getMessage());
    }

    @Test
    void scalarAndEmptyTensors() {
        Tensor scalar = new Tensor("s", new int[0], new float[] {3f});
        assertEquals(1, scalar.size());
        assertEquals(0, scalar.rank());
        Tensor empty = new Tensor("e", new int[] {0, 5}, new float[0]);
        assertEquals(0, empty.size());
        assertEquals(5, empty.dim(1));
    }

    @Test
    void sizeDimAndShape() {
        Tensor t = new Tensor("w", new int[] {2, 3}, new float[6]);
        assertEquals(6, t.size());
        assertEquals(2, t.dim(0));
        assertEquals(3, t.dim(1));
        assertTrue(t.hasShape(2, 3));
        assertFalse(t.hasShape(3, 2));
        var e = assertThrows(IndexOutOfBoundsException.class, () -> t.dim(2));
        assertTrue(e.getMessage().contains("tensor w"), e.getMessage());
    }

    @Test
    void equalityIsByContent() {
        Tensor a = new Tensor("w", new int[] {2}, new float[] {1f, Float.NaN});
        Tensor b = new Tensor("w", new int[] {2}, new float[] {1f, Float.NaN});
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, new Tensor("v", new int[] {2}, new float[] {1f, Float.NaN}));
        assertNotEquals(a, new Tensor("w", new int[] {1, 2}, new float[] {1f, Float.NaN}));
        assertNotEquals(a, new Tensor("w", new int[] {2}, new float[] {1f, 2f}));
        assertEquals("Tensor[w [2]]", a.toString());
    }

    @Test
    void arraysAreViewsNotCopies() {
        float[] data = {1f, 2f};
        Tensor t = new Tensor("w", new int[] {2}, data);
        data[0] = 5f;
        assertArrayEquals(new float[] {5f, 2f}, t.data());
    }
}
