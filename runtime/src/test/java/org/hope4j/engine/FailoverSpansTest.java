package org.hope4j.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.hope4j.BackendException;
import org.hope4j.bundle.Bundle;
import org.hope4j.graph.FrozenGraphs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A primary engine that ran whole spans ({@link Engine#attachMixers}) fails over to the CPU engine inside a
 * {@link MixingEngine}, restored from the last snapshot with the conv states it took with the state: the span the
 * failure interrupted runs again on the fallback, with the logits and learning of an engine that ran from that
 * snapshot without the failure.
 */
class FailoverSpansTest {
    private static final Bundle BUNDLE = Bundle.loadDefault();
    private static final EngineSpec SPEC = EngineSpec.of(BUNDLE.manifest(), false, 1f);
    private static FrozenGraphs graphs;

    @BeforeAll
    static void open() {
        graphs = new FrozenGraphs(BUNDLE, FrozenGraphs.Options.defaults(), SPEC.maxSpan());
    }

    @AfterAll
    static void close() {
        graphs.close();
    }

    private static Engine cpu() {
        return Backends.select("cpu").backend().open(SPEC, BUNDLE.plastic());
    }

    /** Fails every call but close and the pending flags once {@code broken} is set, as a lost CUDA context does. */
    private static Engine breakable(Engine inner, AtomicBoolean broken) {
        return (Engine) Proxy.newProxyInstance(Engine.class.getClassLoader(), new Class<?>[] {Engine.class}, (p, m, args) -> {
            if (broken.get() && !m.getName().equals("close") && !m.getName().equals("hasPending") && !m.getName().equals("spec")) {
                throw new BackendException("cuda " + m.getName() + " failed: cudaErrorLaunchFailure (719)");
            }
            try {
                return m.invoke(inner, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    private static byte[] text(int s) {
        byte[] b = new byte[SPEC.c1() + 1];
        new Random(s).nextBytes(b);
        return b;
    }

    /** Span s of HopeStream.read with every level learning; returns its logits. */
    private static float[] span(Engine e, int s) {
        int c1 = SPEC.c1();
        byte[] t = text(s);
        long pos = (long) s * c1;
        if (e.hasPending()) {
            e.accumulatePending(t[0], true, true);
        }
        if (s > 0) {
            e.step(true, pos % SPEC.c2() == 0);
        }
        float[] logits = new float[c1 * EngineSpec.VOCAB];
        e.span(t, 0, c1, pos, true, logits);
        e.accumulate(c1 - 1, t, 1, true, true);
        e.holdPending();
        return logits;
    }

    @Test
    void theInterruptedSpanRunsAgainOnTheFallbackFromTheSnapshotWithItsConvStates() {
        AtomicBoolean broken = new AtomicBoolean();
        try (Engine reference = new MixingEngine(cpu());
             FailoverEngine f = new FailoverEngine(breakable(new MixingEngine(cpu()), broken), FailoverSpansTest::cpu, 0, "test", "cpu")) {
            assertTrue(f.attachMixers(graphs));
            assertTrue(reference.attachMixers(graphs));
            for (int s = 0; s < 3; s++) {
                assertArrayEquals(span(reference, s), span(f, s), "span " + s);
            }
            var state = f.exportState(); // the snapshot: the state and conv states after span 2
            float[][] conv = new float[SPEC.nBlocks()][];
            for (int b = 0; b < conv.length; b++) {
                conv[b] = f.mixerConv(b);
                assertArrayEquals(reference.mixerConv(b), conv[b], "conv state of block " + b);
            }
            span(f, 3); // learnt on the primary after the snapshot: lost with it
            broken.set(true);
            // the reference continues from the snapshot as the fallback will
            reference.importState(state);
            for (int b = 0; b < conv.length; b++) {
                reference.setMixerConv(b, conv[b]);
            }
            assertArrayEquals(span(reference, 4), span(f, 4), "span 4, rerun on the fallback");
            assertNotNull(f.failure());
            assertInstanceOf(MixingEngine.class, f.current(), "the fallback runs whole spans with the mixers on the host");
            assertArrayEquals(span(reference, 5), span(f, 5), "span 5 on the fallback");
            for (int b = 0; b < conv.length; b++) {
                assertArrayEquals(reference.mixerConv(b), f.mixerConv(b), "conv state of block " + b + " after the failover");
            }
            var want = reference.exportState();
            var got = f.exportState();
            assertEquals(want.keySet(), got.keySet());
            for (String k : want.keySet()) {
                assertArrayEquals(want.get(k).data(), got.get(k).data(), k);
            }
        }
    }

    @Test
    void anEngineThatRunsOnlyLevelsRefusesSpans() {
        try (Engine e = cpu()) {
            org.junit.jupiter.api.Assertions.assertFalse(e.attachMixers(graphs));
            org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
                    () -> e.span(new byte[4], 0, 4, 0, false, new float[4 * EngineSpec.VOCAB]));
            org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class, () -> e.mixerConv(0));
        }
        try (MixingEngine m = new MixingEngine(cpu())) {
            org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
                    () -> m.span(new byte[4], 0, 4, 0, false, new float[4 * EngineSpec.VOCAB]));
            assertTrue(m.attachMixers(graphs));
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> m.setMixerConv(0, new float[3]));
        }
    }
}
