package org.hope4j.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.hope4j.BackendException;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Tensor;
import org.junit.jupiter.api.Test;

/**
 * A primary engine that fails for good (a lost GPU context answers every later call with an error) is replaced by
 * the fallback, restored from the last snapshot of the state; until the fallback has run a whole span, the
 * interrupted span's error signal is not taken.
 */
class FailoverEngineTest {
    private static final Bundle BUNDLE = Bundle.loadDefault();
    private static final EngineSpec SPEC = EngineSpec.of(BUNDLE.manifest(), false, 1f);
    private static final Set<String> ALWAYS = Set.of("close", "spec", "hasPending", "dropPending");

    private static Engine cpu() {
        return Backends.select("cpu").backend().open(SPEC, BUNDLE.plastic());
    }

    /** An engine that, once {@code broken} is set, fails every call as a lost CUDA context does; counts closes. */
    private static Engine breakable(Engine inner, AtomicBoolean broken, AtomicInteger closes) {
        return (Engine) Proxy.newProxyInstance(Engine.class.getClassLoader(), new Class<?>[] {Engine.class}, (p, m, args) -> {
            if (m.getName().equals("close")) {
                closes.incrementAndGet();
            }
            if (broken.get() && !ALWAYS.contains(m.getName())) {
                throw new BackendException("cuda " + m.getName() + " failed: cudaErrorIllegalAddress (700): an illegal memory access");
            }
            try {
                return m.invoke(inner, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    /** One span of HopeStream.read with every level learning, inputs from seed {@code s}; {@code hook} runs before block 2's L0. */
    private static void span(Engine e, int s, Runnable hook) {
        span(e, s, hook, false);
    }

    /** With {@code untilStep}, only the span's first calls: the held position's gradient and the step. */
    private static void span(Engine e, int s, Runnable hook, boolean untilStep) {
        int d = SPEC.dModel();
        int c1 = SPEC.c1();
        Random r = new Random(s);
        float[] q = new float[c1 * d], u = new float[c1 * d], x = new float[c1 * d];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) r.nextGaussian();
            u[i] = (float) r.nextGaussian();
            x[i] = (float) r.nextGaussian();
        }
        byte[] targets = new byte[c1];
        r.nextBytes(targets);
        long pos = (long) s * c1;
        if (e.hasPending()) {
            e.accumulatePending(targets[0], true, true);
        }
        if (s > 0) {
            e.step(true, pos % SPEC.c2() == 0);
        }
        if (untilStep) {
            return;
        }
        float[] o = new float[c1 * d], y = new float[c1 * d], logits = new float[c1 * EngineSpec.VOCAB];
        for (int b = 0; b < SPEC.nBlocks(); b++) {
            if (b == 2) {
                hook.run();
            }
            e.memory(b, q, u, c1, pos, true, o);
            e.cms(b, x, c1, y);
        }
        e.head(y, c1, logits);
        e.accumulate(c1 - 1, targets, 1, true, true);
        e.holdPending();
    }

    private static void assertSameState(Map<String, Tensor> want, Map<String, Tensor> got, String when) {
        assertEquals(want.keySet(), got.keySet(), when);
        for (String k : want.keySet()) {
            assertArrayEquals(want.get(k).data(), got.get(k).data(), when + ": " + k);
        }
    }

    @Test
    void whileThePrimaryRunsItIsThePrimary() {
        AtomicBoolean broken = new AtomicBoolean();
        AtomicInteger closes = new AtomicInteger();
        Engine primary = breakable(cpu(), broken, closes);
        try (Engine reference = cpu(); FailoverEngine f = new FailoverEngine(primary, FailoverEngineTest::cpu, 2, "test", "cpu")) {
            for (int s = 0; s < 5; s++) {
                span(reference, s, () -> { });
                span(f, s, () -> { });
            }
            assertSameState(reference.exportState(), f.exportState(), "after five spans");
            assertSame(primary, f.current());
            assertNull(f.failure());
            assertEquals(reference.rollbacks(), f.rollbacks());
        }
        assertEquals(1, closes.get(), "closing closes the primary");
    }

    @Test
    void aPrimaryThatFailsForGoodIsReplacedFromTheLastSnapshotAndLearningGoesOn() {
        AtomicBoolean broken = new AtomicBoolean();
        AtomicInteger closes = new AtomicInteger();
        AtomicInteger fallbacks = new AtomicInteger();
        Engine primary = breakable(cpu(), broken, closes);
        try (FailoverEngine f = new FailoverEngine(primary, () -> {
                 fallbacks.incrementAndGet();
                 return cpu();
             }, 3, "cuda (device 0)", "cpu")) {
            for (int s = 0; s < 4; s++) {
                span(f, s, () -> { });
            }
            // snapshots every 3 steps: the last one is span 3's, after its held gradient and step (steps come at spans 1, 2, 3)
            Map<String, Tensor> atThirdStep;
            try (Engine rebuilt = cpu()) {
                for (int s = 0; s < 3; s++) {
                    span(rebuilt, s, () -> { });
                }
                span(rebuilt, 3, () -> { }, true);
                atThirdStep = rebuilt.exportState();
            }
            // span 4 fails before block 2's memory call: every later call of the primary fails
            span(f, 4, () -> broken.set(true));
            assertNotSame(primary, f.current(), "moved to the fallback");
            assertEquals(1, fallbacks.get());
            assertEquals(1, closes.get(), "the failed primary was closed");
            assertTrue(f.failure().contains("cudaErrorIllegalAddress"), f.failure());
            assertEquals("cpu", f.fallbackName());
            // the fallback ran blocks 2 and 3 and the head from the snapshot; the interrupted span taught nothing
            Map<String, Tensor> after = f.exportState();
            assertFalse(f.hasPending(), "no position of the interrupted span is held");
            for (String k : atThirdStep.keySet()) {
                if (k.contains(".l0.")) {
                    continue; // L0 learnt from blocks 2 and 3 of span 4 on the fallback
                }
                assertArrayEquals(atThirdStep.get(k).data(), after.get(k).data(), "CMS levels and sums as at the snapshot: " + k);
            }
            // the next whole span learns again
            span(f, 5, () -> { });
            assertTrue(f.hasPending(), "a whole span on the fallback holds its last position again");
            float[] before = after.get("blocks.0.l1.g_up").data();
            float[] now = f.exportState().get("blocks.0.l1.g_up").data();
            assertFalse(java.util.Arrays.equals(before, now), "the span's error signal went into the sums");
            span(f, 6, () -> { });
            assertEquals(1, fallbacks.get(), "failed over once");
        }
    }

    @Test
    void anExportedOrImportedStateIsTheSnapshot() {
        AtomicBoolean broken = new AtomicBoolean();
        AtomicInteger closes = new AtomicInteger();
        try (FailoverEngine f = new FailoverEngine(breakable(cpu(), broken, closes), FailoverEngineTest::cpu, 0, "test", "cpu")) {
            span(f, 0, () -> { });
            span(f, 1, () -> { });
            Map<String, Tensor> saved = f.exportState();
            Map<String, Tensor> kept = f.exportState();
            kept.values().iterator().next().data()[0] = Float.NaN; // what a caller does with its copy is its own
            span(f, 2, () -> { });
            broken.set(true);
            assertSameState(saved, f.exportState(), "a save after the failure writes the last snapshot");
            assertNotNull(f.failure());
        }
        broken.set(false);
        try (Engine other = cpu(); FailoverEngine f = new FailoverEngine(breakable(cpu(), broken, closes), FailoverEngineTest::cpu, 0, "test", "cpu")) {
            span(other, 0, () -> { });
            Map<String, Tensor> restored = other.exportState();
            f.importState(restored);
            span(f, 1, () -> { });
            broken.set(true);
            span(f, 2, () -> { });
            assertNotNull(f.failure());
        }
    }

    @Test
    void aFallbackThatFailsTooIsThrown() {
        AtomicBoolean broken = new AtomicBoolean();
        AtomicBoolean fallbackBroken = new AtomicBoolean(true);
        AtomicInteger closes = new AtomicInteger();
        try (FailoverEngine f = new FailoverEngine(breakable(cpu(), broken, closes),
                () -> breakable(cpu(), fallbackBroken, new AtomicInteger()), 0, "test", "cpu")) {
            broken.set(true);
            BackendException e = assertThrows(BackendException.class, () -> span(f, 0, () -> { }));
            assertTrue(e.getMessage().contains("importState"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new FailoverEngine(cpu(), FailoverEngineTest::cpu, -1, "test", "cpu"));
    }

    private static void assertNotNull(Object o) {
        assertTrue(o != null, "expected a failure");
    }
}
