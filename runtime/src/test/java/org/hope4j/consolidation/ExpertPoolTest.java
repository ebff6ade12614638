package org.hope4j.consolidation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.hope4j.StateException;
import org.hope4j.bundle.Tensor;
import org.junit.jupiter.api.Test;

class ExpertPoolTest {
    private static Map<String, Tensor> meta(float... v) {
        Map<String, Tensor> t = new HashMap<>();
        t.put("sleep.pool.meta", new Tensor("sleep.pool.meta", new int[] {v.length}, v));
        return t;
    }

    @Test
    void aMalformedMetaTensorIsAStateExceptionNamingIt() {
        // 2 slots, rank 4, 0 sleeps, both slots free: a valid empty pool
        ExpertPool ok = ExpertPool.fromTensors(meta(2, 4, 0, 0, 0), 4, 1, 8, 16, 8);
        assertEquals(2, ok.slots());
        assertEquals(4, ok.rank());
        for (float[] bad : new float[][] {{0, 4, 0}, {2, 0, 0, 0, 0}, {2, 9, 0, 0, 0}, {2, 2.5f, 0, 0, 0}, {2, 4, -1, 0, 0},
                {2, 4, 0, 0.5f, 0}, {2, 4, 0, 0, Float.NaN}, {2, 4, 1 << 25, 0, 0}}) {
            StateException e = assertThrows(StateException.class, () -> ExpertPool.fromTensors(meta(bad), 4, 1, 8, 16, 8),
                    java.util.Arrays.toString(bad));
            assertTrue(e.getMessage().contains("sleep.pool.meta"), e.getMessage());
        }
    }
}
