package org.hope4j.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.hope4j.Level;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Tensor;
import org.junit.jupiter.api.Test;

/** An engine opened on first need answers what the opened engine would until then, and opens once. */
class LazyEngineTest {
    private static final Bundle BUNDLE = Bundle.loadDefault();
    private static final EngineSpec SPEC = EngineSpec.of(BUNDLE.manifest(), false, 1f);

    private static Engine open() {
        return Backends.select("cpu").backend().open(SPEC, BUNDLE.plastic());
    }

    private static void assertSameState(Map<String, Tensor> want, Map<String, Tensor> got) {
        assertEquals(want.keySet(), got.keySet());
        for (String k : want.keySet()) {
            assertArrayEquals(want.get(k).data(), got.get(k).data(), k);
        }
    }

    @Test
    void untilACallNeedsTheEngineItAnswersWithThePristineStateAndThenOpensOnce() {
        AtomicInteger opens = new AtomicInteger();
        try (Engine reference = open();
             LazyEngine lazy = new LazyEngine(SPEC, reference.exportState(), () -> {
                 opens.incrementAndGet();
                 return open();
             })) {
            assertSameState(reference.exportState(), lazy.exportState());
            lazy.exportState().values().iterator().next().data()[0] = Float.NaN; // a copy: the next export is unchanged
            assertSameState(reference.exportState(), lazy.exportState());
            lazy.resetLevel(Level.L0);
            lazy.resetLevel(Level.L1);
            lazy.dropPending();
            assertFalse(lazy.hasPending());
            assertEquals(0, lazy.rollbacks());
            assertEquals(SPEC, lazy.spec());
            assertFalse(lazy.opened());
            assertEquals(0, opens.get(), "nothing so far needed the engine");
            int d = SPEC.dModel();
            float[] x = new float[4 * d];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.sin(i);
            }
            float[] want = new float[4 * d], got = new float[4 * d];
            reference.cms(1, x, 4, want);
            lazy.cms(1, x, 4, got);
            assertTrue(lazy.opened());
            assertArrayEquals(want, got, "the opened engine computes what one opened directly does");
            lazy.cms(2, x, 4, got);
            assertEquals(1, opens.get(), "opened once");
            assertSameState(reference.exportState(), lazy.exportState());
        }
    }

    @Test
    void closedBeforeItOpenedItNeverOpensAndRefusesLaterCalls() {
        AtomicInteger opens = new AtomicInteger();
        LazyEngine lazy;
        try (Engine reference = open()) {
            lazy = new LazyEngine(SPEC, reference.exportState(), () -> {
                opens.incrementAndGet();
                return open();
            });
        }
        lazy.close();
        lazy.close();
        assertEquals(0, opens.get());
        assertThrows(IllegalStateException.class, lazy::exportState);
        assertThrows(IllegalStateException.class, () -> lazy.resetLevel(Level.L0));
        assertThrows(IllegalStateException.class, () -> lazy.head(new float[SPEC.dModel()], 1, new float[256]));
        assertEquals(0, opens.get(), "a closed engine is never opened");
    }
}
