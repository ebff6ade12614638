package org.hope4j;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.Tensor;
import org.hope4j.learner.Streams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The learner's contract: learning, scoring without side effects, persistence, level switches. */
class LearnerTest {
    static Bundle bundle;
    static final byte[] A = ("It was the best of times, it was the worst of times, it was the age of wisdom, "
            + "it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity. ").repeat(6)
            .getBytes(StandardCharsets.UTF_8);
    static final byte[] B = "There were a king with a large jaw and a queen with a plain face, on the throne of England.".repeat(4)
            .getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        bundle = Bundle.loadDefault();
    }

    static Learner learner() {
        return Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu"));
    }

    static float[] tensor(Learner l, String name) {
        Map<String, Tensor> t = Streams.of(l).snapshot().tensors();
        return t.get(name).data();
    }

    @Test
    void saveThenRestoreContinuesExactly() {
        Path dir = tmp.resolve("state");
        Score uninterrupted;
        try (Learner l = learner()) {
            l.observe(A);
            l.save(dir);
            uninterrupted = l.observe(B);
        }
        try (Learner l = learner()) {
            l.restore(dir);
            assertEquals(A.length, l.position());
            Score resumed = l.observe(B);
            assertEquals(uninterrupted.bits(), resumed.bits(), 1e-9);
            assertEquals(uninterrupted.scoredBytes(), resumed.scoredBytes());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(java.util.Set.of("learner.state", "experience.bin", "episodic", ".lock"),
                    files.map(f -> f.getFileName().toString()).map(n -> n.matches("episodic-[0-9a-f]{16}\\.state") ? "episodic" : n)
                            .collect(java.util.stream.Collectors.toSet()), "the state, the experience and one episodic file, no temp files");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void observingLearnsAndChangesTheLevelsAtTheirPeriods() {
        try (Learner l = learner()) {
            float[] up1 = tensor(l, "blocks.0.l1.up").clone();
            Score first = l.observe(A);
            assertEquals(A.length - 1, first.scoredBytes());
            assertFalse(java.util.Arrays.equals(up1, tensor(l, "blocks.0.l1.up")));
            Map<Level, Long> c = l.updateCounts();
            assertEquals(A.length / 16, c.get(Level.L0));
            assertEquals((A.length - 1) / 64, c.get(Level.L1));
            assertEquals((A.length - 1) / 256, c.get(Level.L2));
        }
    }

    @Test
    void scoreAndGenerateLeaveTheStateUntouched() {
        try (Learner l = learner()) {
            l.observe(A);
            var before = Streams.of(l).snapshot();
            Score s1 = l.score(B);
            byte[] g1 = l.generate("it was".getBytes(StandardCharsets.UTF_8), 30, Sampling.defaults().withSeed(5), null);
            Score s2 = l.score(B);
            byte[] g2 = l.generate("it was".getBytes(StandardCharsets.UTF_8), 30, Sampling.defaults().withSeed(5), null);
            assertEquals(s1.bits(), s2.bits(), 0.0);
            assertArrayEquals(g1, g2, "same seed, same state: same text");
            var after = Streams.of(l).snapshot();
            assertEquals(before.position(), after.position());
            for (var e : before.tensors().entrySet()) {
                assertArrayEquals(e.getValue().data(), after.tensors().get(e.getKey()).data(), e.getKey());
            }
        }
    }

    @Test
    void frozenLevelsKeepTheirValueAndResetRestoresThePretrainedOne() {
        try (Learner l = learner()) {
            float[] up1 = tensor(l, "blocks.1.l1.up").clone();
            float[] up2 = tensor(l, "blocks.1.l2.up").clone();
            l.freeze(Level.L1);
            l.observe(A);
            assertArrayEquals(up1, tensor(l, "blocks.1.l1.up"));
            assertFalse(java.util.Arrays.equals(up2, tensor(l, "blocks.1.l2.up")));
            l.reset(Level.L2);
            assertArrayEquals(up2, tensor(l, "blocks.1.l2.up"));
            assertEquals(java.util.EnumSet.of(Level.L1), l.frozenLevels());
        }
    }

    /** Bits of every byte (index = stream position) of {@code data} read as one stream with the given levels frozen. */
    static double[] bitsPerPosition(byte[] data, Level... frozen) {
        double[] bits = new double[data.length];
        try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withEpisodic(null))) {
            for (Level f : frozen) {
                l.freeze(f);
            }
            l.observe(data, (pos, b) -> bits[(int) pos] = b);
        }
        return bits;
    }

    /**
     * Issue 11's property of the memories, in Java: over general text read as one stream (the
     * bundle's rehearsal text, as written and as one long line), the L0 memories learning never make
     * 256-byte windows worse than L0 frozen on average (by more than 0.05 bits/byte), with the CMS
     * levels frozen in both. (model-export's {@code evaluate --l0-stability 65536} checks 64 KB of
     * every held-out format in Python.)
     */
    @Test
    void theL0MemoriesHelpOverLongStreamsAndLongLines() {
        byte[] text = bundle.rehearsal();
        byte[] oneLine = new String(text, StandardCharsets.UTF_8).replace('\n', ' ').getBytes(StandardCharsets.UTF_8);
        for (byte[] data : new byte[][] {text, oneLine}) {
            double[] on = bitsPerPosition(data, Level.L1, Level.L2);
            double[] off = bitsPerPosition(data, Level.L0, Level.L1, Level.L2);
            int windows = (data.length - 1) / 256;
            double diff = 0;
            int worse = 0;
            for (int w = 0; w < windows; w++) {
                double a = 0, b = 0;
                for (int i = 1 + w * 256; i < 1 + (w + 1) * 256; i++) {
                    a += on[i];
                    b += off[i];
                }
                diff += (a - b) / 256 / windows;
                worse += (a - b) / 256 > 0.05 ? 1 : 0;
            }
            assertTrue(windows >= 40, "windows " + windows);
            assertTrue(diff <= 0.05, "L0 learning vs frozen, mean over " + windows + " windows: " + diff + " (" + worse + " worse by > 0.05)");
            assertTrue(diff < -0.2, "L0 learning helps on general text: " + diff);
        }
    }

    /** Rewrites the saved state's metadata and tensors, recomputing both checksums when {@code reseal}. */
    static void tamper(Path file, java.util.function.Consumer<Map<String, String>> meta, java.util.function.Consumer<Map<String, Tensor>> data,
            boolean reseal) throws Exception {
        org.hope4j.bundle.Safetensors.File sf = org.hope4j.bundle.Safetensors.read(Files.readAllBytes(file), file.toString());
        Map<String, String> m = new java.util.LinkedHashMap<>(sf.metadata());
        Map<String, Tensor> t = new java.util.TreeMap<>(sf.tensors());
        meta.accept(m);
        data.accept(t);
        if (reseal) {
            m.put("data_sha256", org.hope4j.state.StateStore.dataSha(t));
            m.put("metadata_sha256", org.hope4j.state.StateStore.metaSha(m));
        }
        Files.write(file, org.hope4j.bundle.Safetensors.toBytes(t, m));
    }

    @Test
    void aStateIsCheckedWhollyBeforeAnythingChanges() throws Exception {
        Path dir = tmp.resolve("state");
        try (Learner l = learner()) {
            l.observe(A);
            l.save(dir);
            Path file = dir.resolve("learner.state");
            byte[] good = Files.readAllBytes(file);
            l.observe(B);
            long position = l.position();
            long[] counts = l.updateCounts().values().stream().mapToLong(Long::longValue).toArray();
            Score before = l.score(B);
            // an unknown level in "frozen", checksums resealed: refused, naming the field, and nothing moved
            tamper(file, m -> m.put("frozen", "L9"), t -> { }, true);
            StateException e1 = assertThrows(StateException.class, () -> l.restore(dir));
            assertTrue(e1.getMessage().contains("frozen") && e1.getMessage().contains("L9"), e1.getMessage());
            assertEquals(position, l.position());
            assertArrayEquals(counts, l.updateCounts().values().stream().mapToLong(Long::longValue).toArray());
            // metadata edited without its checksum (a moved position): refused
            Files.write(file, good);
            tamper(file, m -> m.put("position", "5"), t -> { }, false);
            StateException e2 = assertThrows(StateException.class, () -> l.restore(dir));
            assertTrue(e2.getMessage().contains("metadata_sha256"), e2.getMessage());
            // a negative count, resealed: refused
            Files.write(file, good);
            tamper(file, m -> m.put("count_l1", "-3"), t -> { }, true);
            assertTrue(assertThrows(StateException.class, () -> l.restore(dir)).getMessage().contains("count_"));
            // a position no learner reaches, resealed (MutationIT found Long.MAX_VALUE restored, then failing in the first span)
            Files.write(file, good);
            tamper(file, m -> m.put("position", Long.toString(Long.MAX_VALUE)), t -> { }, true);
            StateException big = assertThrows(StateException.class, () -> l.restore(dir));
            assertTrue(big.getMessage().contains(file.toString()) && big.getMessage().contains("position"), big.getMessage());
            assertEquals(position, l.position());
            // a NaN in a tensor, both checksums resealed: refused, naming the tensor
            Files.write(file, good);
            tamper(file, m -> { }, t -> {
                String name = t.keySet().iterator().next();
                float[] d = t.get(name).data().clone();
                d[0] = Float.NaN;
                t.put(name, new Tensor(name, t.get(name).shape(), d));
            }, true);
            StateException e3 = assertThrows(StateException.class, () -> l.restore(dir));
            assertTrue(e3.getMessage().contains("NaN"), e3.getMessage());
            assertEquals(position, l.position());
            assertEquals(before.bits(), l.score(B).bits(), 0.0, "a refused restore changes nothing");
            Files.write(file, good);
            l.restore(dir);
            assertEquals(A.length, l.position());
        }
    }

    @Test
    void aPoisonedStateIsNeverSaved() throws Exception {
        Path dir = tmp.resolve("state");
        try (Learner l = learner()) {
            l.observe(A);
            l.save(dir);
        }
        byte[] good = Files.readAllBytes(dir.resolve("learner.state"));
        // a learner poisoned behind every check (NaN written straight into the engine): the store refuses it
        try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withEpisodic(null))) {
            l.observe(B);
            var engine = Streams.of(l).engine();
            Map<String, Tensor> s = engine.exportState();
            s.get("blocks.2.l1.up").data()[11] = Float.NaN;
            engine.importState(s);
            StateException e = assertThrows(StateException.class, () -> l.save(dir));
            assertTrue(e.getMessage().contains("NaN or infinite") && e.getMessage().contains("nothing was saved"), e.getMessage());
        }
        assertArrayEquals(good, Files.readAllBytes(dir.resolve("learner.state")), "the state saved before stays as it was");
    }

    @Test
    void corruptOrTruncatedStateIsRefusedAndLosesNothing() throws Exception {
        Path dir = tmp.resolve("state");
        try (Learner l = learner()) {
            l.observe(A);
            l.save(dir);
            Path file = dir.resolve("learner.state");
            byte[] good = Files.readAllBytes(file);
            Score before = l.score(B);

            byte[] flipped = good.clone();
            flipped[flipped.length - 10] ^= 0x40;
            Files.write(file, flipped);
            StateException e1 = assertThrows(StateException.class, () -> l.restore(dir));
            assertTrue(e1.getMessage().contains("learner.state") && e1.getMessage().contains("data_sha256"), e1.getMessage());

            Files.write(file, java.util.Arrays.copyOf(good, good.length / 2));
            StateException e2 = assertThrows(StateException.class, () -> l.restore(dir));
            assertTrue(e2.getMessage().contains("learner.state"), e2.getMessage());

            Files.write(file, new byte[3]);
            assertThrows(StateException.class, () -> l.restore(dir));

            StateException e3 = assertThrows(StateException.class, () -> l.restore(tmp.resolve("nothing")));
            assertTrue(e3.getMessage().contains("no saved state"), e3.getMessage());

            assertEquals(before.bits(), l.score(B).bits(), 0.0, "a refused restore changes nothing");
            Files.write(file, good);
            l.restore(dir);
        }
    }

    @Test
    void stateFileIsOwnerOnly() throws Exception {
        Path dir = tmp.resolve("private");
        try (Learner l = learner()) {
            l.observe(B);
            l.save(dir);
        }
        var perms = Files.getPosixFilePermissions(dir.resolve("learner.state"));
        assertEquals(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"), perms);
    }

    @Test
    void gpuGraphProviderFallsBackToCpuWhereNoGpuRuns() {
        // this machine's ONNX Runtime is the CPU build: asking for CUDA must fall back, not fail
        try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withGraphProvider("cuda"))) {
            assertEquals("cpu", l.graphProvider());
            assertTrue(l.score(B).bitsPerByte() > 0);
        }
    }

    @Test
    void recentExperienceIsKeptBoundedAndSurvivesSaveAndRestore() throws Exception {
        Path dir = tmp.resolve("exp");
        try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withExperienceBytes(100))) {
            l.observe(A);
            l.score(B); // scoring is not experience
            byte[] tail = java.util.Arrays.copyOfRange(A, A.length - 100, A.length);
            assertArrayEquals(tail, l.recentExperience());
            l.save(dir);
            assertEquals(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"),
                    Files.getPosixFilePermissions(dir.resolve("experience.bin")));
            l.clearExperience();
            assertEquals(0, l.recentExperience().length);
            l.restore(dir);
            assertArrayEquals(tail, l.recentExperience());
        }
    }

    @Test
    void concurrentScoringNeverDisturbsLearning() throws Exception {
        var sequential = learner();
        var shared = learner();
        try (sequential; shared) {
            for (int i = 0; i < 4; i++) {
                sequential.observe(A);
            }
            var stop = new java.util.concurrent.atomic.AtomicBoolean();
            var errors = new java.util.concurrent.ConcurrentLinkedQueue<Throwable>();
            Thread scorer = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        shared.score(B);
                        shared.generate("it", 3, Sampling.greedy());
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            });
            scorer.start();
            for (int i = 0; i < 4; i++) {
                shared.observe(A);
            }
            stop.set(true);
            scorer.join();
            assertTrue(errors.isEmpty(), errors.toString());
            var want = Streams.of(sequential).snapshot().tensors();
            var got = Streams.of(shared).snapshot().tensors();
            assertEquals(want.keySet(), got.keySet());
            for (String k : want.keySet()) {
                assertArrayEquals(want.get(k).data(), got.get(k).data(), k);
            }
        }
    }

    @Test
    void stateOfAnotherBundleOrAFutureFormatIsRefused() {
        Path dir = tmp.resolve("state");
        try (Learner l = learner()) {
            l.observe(B);
            l.save(dir);
            Path file = dir.resolve("learner.state");
            var sf = org.hope4j.bundle.Safetensors.read(file);
            for (String[] change : new String[][] {{"bundle_plastic_sha256", "0".repeat(64)}, {"bundle_sha256", "1".repeat(64)}, {"format_version", "99"},
                {"format", "something-else"}}) {
                var meta = new java.util.LinkedHashMap<>(sf.metadata());
                meta.put(change[0], change[1]);
                org.hope4j.bundle.Safetensors.write(file, sf.tensors(), meta);
                StateException e = assertThrows(StateException.class, () -> l.restore(dir));
                assertTrue(e.getMessage().contains(change[0]) && e.getMessage().contains(change[1]), e.getMessage());
            }
        }
    }

    @Test
    void singleTimescaleStepsL2WithL1() {
        try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withSingleTimescale(true))) {
            l.observe(A);
            Map<Level, Long> c = l.updateCounts();
            assertEquals((A.length - 1) / 64, c.get(Level.L1));
            assertEquals(c.get(Level.L1), c.get(Level.L2), "L2 steps at every L1 boundary");
        }
    }

    @Test
    void closedLearnerRefusesCalls() {
        Learner l = learner();
        l.close();
        l.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> l.observe(A));
        assertTrue(e.getMessage().contains("Learner"));
        assertThrows(IllegalStateException.class, l::frozenLevels);
        assertThrows(IllegalStateException.class, l::expertsInUse);
        assertThrows(IllegalStateException.class, () -> l.sleepWhenIdle(org.hope4j.sleep.DevicePolicy.always(),
                org.hope4j.sleep.SchedulerOptions.defaults(), org.hope4j.sleep.SleepConfig.defaults(), null));
        assertInstanceOf(org.hope4j.sleep.SleepReport.Preempted.class, l.sleep(), "a sleep after close does nothing");
    }

    @Test
    void aStreamRestoreWithABadTensorChangesNothing() {
        java.util.Map<String, org.hope4j.bundle.Tensor> fresh;
        try (Learner f = learner()) {
            fresh = new java.util.LinkedHashMap<>(Streams.of(f).snapshot().tensors());
        }
        try (Learner l = learner()) {
            l.observe(A);
            double before = l.score(A).bitsPerByte();
            long position = l.position();
            // the fresh learner's tensors (a different, valid state), with one tensor misshapen: a partial restore would show
            java.util.Map<String, org.hope4j.bundle.Tensor> bad = new java.util.LinkedHashMap<>(fresh);
            bad.put("last_logits", new org.hope4j.bundle.Tensor("last_logits", new int[] {10}, new float[10]));
            var stream = Streams.of(l);
            StateException e = assertThrows(StateException.class,
                    () -> stream.restore(new org.hope4j.learner.HopeStream.Snapshot(bad, 0, new long[3])));
            assertTrue(e.getMessage().contains("last_logits"), e.getMessage());
            assertThrows(StateException.class, () -> stream.restore(new org.hope4j.learner.HopeStream.Snapshot(fresh, 0, new long[2])));
            assertEquals(position, l.position());
            assertEquals(before, l.score(A).bitsPerByte(), 0.0, "the engine, conv and logits are as they were");
        }
    }

    @Test
    void aSecondIdleSchedulerReplacesTheFirst() {
        try (Learner l = learner()) {
            var first = l.sleepWhenIdle(org.hope4j.sleep.DevicePolicy.always(), org.hope4j.sleep.SchedulerOptions.defaults(),
                    org.hope4j.sleep.SleepConfig.defaults(), null);
            var second = l.sleepWhenIdle(org.hope4j.sleep.DevicePolicy.always(), org.hope4j.sleep.SchedulerOptions.defaults(),
                    org.hope4j.sleep.SleepConfig.defaults(), null);
            assertTrue(first.isClosed(), "the first scheduler is closed");
            assertFalse(second.isClosed());
            l.close();
            assertTrue(second.isClosed(), "closing the learner closes the scheduler it made");
        }
    }

    @Test
    void explicitUnknownBackendFailsLoudly() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> Hope.open(bundle, LearnerOptions.defaults().withBackend("tpu")));
        assertTrue(e.getMessage().contains("tpu"), e.getMessage());
    }

    @Test
    void javaAndOpenBlasEnginesAgree() {
        // the engines alone: no anchor mixed into the learner's bits
        try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withEpisodic(null).withAnchorShare(0))) {
            var spec = org.hope4j.engine.EngineSpec.of(bundle.manifest(), false, 1.0);
            try (var javaEngine = org.hope4j.engine.cpu.CpuBackend.openJava(spec, bundle.plastic());
                 var graphs = new org.hope4j.graph.FrozenGraphs(bundle, org.hope4j.graph.FrozenGraphs.Options.defaults(), spec.maxSpan())) {
                var other = new org.hope4j.learner.HopeStream(graphs, javaEngine, bundle.manifest().model().convWidth());
                int v = org.hope4j.engine.EngineSpec.VOCAB;
                float[] la = new float[A.length * v];
                float[] lb = new float[A.length * v];
                double[] a = Streams.of(l).read(A, 0, A.length, org.hope4j.learner.Learning.ON,
                        (pos, logits, row) -> System.arraycopy(logits, row * v, la, (int) pos * v, v));
                double[] b = other.read(A, 0, A.length, org.hope4j.learner.Learning.ON,
                        (pos, logits, row) -> System.arraycopy(logits, row * v, lb, (int) pos * v, v));
                assertNotEquals(0.0, a[0]);
                assertEquals(a[0], b[0], 1e-4 * a[0]);
                // every logit of every position, and every tensor of the learned state, at the parity tolerances
                var tol = bundle.manifest().golden().tolerances();
                assertTrue(ParityTest.relErr(lb, la) <= tol.logitsMaxRel(), "logits: " + ParityTest.relErr(lb, la));
                var sa = Streams.of(l).snapshot().tensors();
                var sb = other.snapshot().tensors();
                assertEquals(sa.keySet(), sb.keySet());
                for (String name : sa.keySet()) {
                    double e = ParityTest.relErr(sb.get(name).data(), sa.get(name).data());
                    assertTrue(e <= tol.weightsMaxRel(), name + ": " + e);
                }
            }
        }
    }

    @Test
    void rateScaleMultipliesTheCmsSteps() {
        var base = org.hope4j.engine.EngineSpec.of(bundle.manifest(), false, 1.0);
        var half = org.hope4j.engine.EngineSpec.of(bundle.manifest(), false, 0.5);
        for (int b = 0; b < base.lr1().length; b++) {
            assertEquals(0.5f * base.lr1()[b], half.lr1()[b], 1e-12f);
            assertEquals(0.5f * base.lr2()[b], half.lr2()[b], 1e-12f);
        }
        String name = "blocks.0.l1.up";
        float[] initial;
        float[] full;
        try (Learner l = learner()) {
            initial = tensor(l, name);
            l.observe(java.util.Arrays.copyOf(A, 66)); // exactly one L1 step: the chunk's gradient at the initial weights
            full = tensor(l, name);
        }
        float[] scaled;
        try (Learner l = Hope.open(bundle, LearnerOptions.defaults().withBackend("cpu").withRateScale(0.5))) {
            l.observe(java.util.Arrays.copyOf(A, 66));
            scaled = tensor(l, name);
        }
        double maxStep = 0;
        for (int i = 0; i < initial.length; i++) {
            double step = full[i] - initial[i];
            maxStep = Math.max(maxStep, Math.abs(step));
            assertEquals(0.5 * step, scaled[i] - initial[i], 1e-6, "element " + i);
        }
        assertTrue(maxStep > 1e-4, "the L1 step moved nothing: " + maxStep);
    }

    /**
     * Rate scale 0 leaves the CMS levels' weights exactly as they were, and the neural prediction as the
     * frozen levels give it (the same weights through other code paths: the learning path's Java
     * kernels, the frozen one's ONNX Runtime graph). With E on the figures are compared loosely: E
     * quantises the neural probabilities to 12 bits, so a 1e-8 difference can flip a step of its tables
     * and move the total by a few 1e-4 on this repetitive text.
     */
    @Test
    void rateScaleZeroLearnsLikeFrozenCmsLevels() {
        for (boolean episodic : new boolean[] {false, true}) {
            LearnerOptions o = LearnerOptions.defaults().withBackend("cpu");
            if (!episodic) {
                o = o.withEpisodic(null);
            }
            double frozen;
            try (Learner l = Hope.open(bundle, o)) {
                l.freeze(Level.L1);
                l.freeze(Level.L2);
                frozen = l.observe(A).bitsPerByte();
            }
            try (Learner l = Hope.open(bundle, o.withRateScale(0))) {
                float[] up1 = tensor(l, "blocks.1.l1.up").clone();
                float[] down2 = tensor(l, "blocks.2.l2.down").clone();
                double zero = l.observe(A).bitsPerByte();
                assertTrue(l.updateCounts().get(Level.L1) > 0, "L1 took its steps: " + l.updateCounts());
                assertArrayEquals(up1, tensor(l, "blocks.1.l1.up"), "L1 did not move");
                assertArrayEquals(down2, tensor(l, "blocks.2.l2.down"), "L2 did not move");
                assertEquals(frozen, zero, (episodic ? 2e-3 : 1e-6) * frozen, "E " + episodic); // without E measured 1e-8 relative
            }
            try (Learner l = Hope.open(bundle, o)) {
                assertNotEquals(frozen, l.observe(A).bitsPerByte());
            }
        }
    }

    @Test
    void rateScaleMustBeFiniteAndNotNegative() {
        for (double bad : new double[] {-0.1, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LearnerOptions.defaults().withRateScale(bad));
            assertTrue(e.getMessage().contains("rateScale"), e.getMessage());
        }
    }
}
