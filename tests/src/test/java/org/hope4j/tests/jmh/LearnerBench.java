package org.hope4j.tests.jmh;

import java.util.concurrent.TimeUnit;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.Score;
import org.hope4j.bundle.Bundle;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * End-to-end reference points: a whole {@link Learner} on the default bundle (CPU engine, ONNX
 * Runtime on one CPU thread, default options) reading 1 KiB of the bundle's retention probe text.
 * 1 KiB is 64 L0 chunks, 16 L1 and 4 L2 update steps: every observe call does the same amount of
 * work, though the learner's state (and position) keeps evolving from call to call.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@State(Scope.Thread)
public class LearnerBench {
    static final int BYTES = 1024;

    Learner learner;
    byte[] data;

    @Setup(Level.Trial)
    public void open() {
        Bundle bundle = Bundle.loadDefault();
        byte[] probe = bundle.probe();
        data = new byte[BYTES];
        for (int i = 0; i < BYTES; i++) {
            data[i] = probe[i % probe.length];
        }
        learner = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu"));
        learner.observe(data); // opens the graphs and the engine outside the measurement
    }

    @TearDown(Level.Trial)
    public void close() {
        learner.close();
    }

    /** observe(1 KiB): frozen graphs, every level's forward pass, the error signal, L0/L1/L2 updates. */
    @Benchmark
    public Score observe() {
        return learner.observe(data);
    }

    /** score(1 KiB): the same forward pass with the CMS levels frozen, from a snapshot it restores. */
    @Benchmark
    public Score score() {
        return learner.score(data);
    }
}
