package org.hope4j;

import java.nio.file.Path;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.BundleSource;
import org.hope4j.engine.Backends;
import org.hope4j.engine.Engine;
import org.hope4j.graph.FrozenGraphs;

/**
 * The one door into Hope4J: load a bundle, get a {@link Learner}.
 *
 * <pre>{@code
 * try (Learner learner = Hope.loadDefault()) {
 *     learner.observe("text the model should learn");
 *     System.out.println(learner.score("more text").bitsPerByte());
 * }
 * }</pre>
 */
public final class Hope {
    private Hope() {
    }

    /**
     * Loads the bundle in {@code dir} (every file's SHA-256 is verified first).
     *
     * @param dir the bundle directory, holding {@code manifest.json} and the files it lists; not null
     * @return a new learner on the pretrained model with {@link LearnerOptions#defaults()}; the caller closes it
     * @throws BundleException if {@code dir} is not a directory or the bundle is missing a file, corrupt or inconsistent
     * @throws BackendException if a backend or ONNX Runtime fails while opening the model
     */
    public static Learner load(Path dir) {
        return load(dir, LearnerOptions.defaults());
    }

    /**
     * Loads the bundle in {@code dir} with {@code options}.
     *
     * @param dir the bundle directory, holding {@code manifest.json} and the files it lists; not null
     * @param options how the learner runs (backend, graph provider, experience size, E, anchor...); not null
     * @return a new learner on the pretrained model; the caller closes it
     * @throws BundleException if {@code dir} is not a directory or the bundle is missing a file, corrupt or inconsistent
     * @throws BackendUnavailableException if {@code options} names a backend explicitly and it cannot run here
     * @throws BackendException if a backend or ONNX Runtime fails while opening the model
     */
    public static Learner load(Path dir, LearnerOptions options) {
        return open(Bundle.load(BundleSource.directory(dir)), options);
    }

    /**
     * Loads the bundle in {@code dir} and continues from the state saved in {@code stateDir}, if it
     * holds one (else from the pretrained model): one call for an application that starts again.
     *
     * @param dir the bundle directory, holding {@code manifest.json} and the files it lists; not null
     * @param stateDir where a previous run {@link Learner#save saved} its state; not null, but it need not exist
     * @return a new learner with {@link LearnerOptions#defaults()}, restored from {@code stateDir} when it holds a state
     * @throws BundleException if {@code dir} is not a directory or the bundle is missing a file, corrupt or inconsistent
     * @throws StateException if {@code stateDir} holds a state that cannot be read or does not fit this bundle (the new
     *     learner is closed first)
     * @throws BackendException if a backend or ONNX Runtime fails while opening the model
     */
    public static Learner load(Path dir, Path stateDir) {
        return resume(load(dir), stateDir);
    }

    /**
     * The default model, continuing from the state saved in {@code stateDir} if it holds one.
     *
     * @param stateDir where a previous run {@link Learner#save saved} its state; not null, but it need not exist
     * @return a new learner on the jar's default bundle with {@link LearnerOptions#defaults()}, restored from
     *     {@code stateDir} when it holds a state; the caller closes it
     * @throws BundleException if the default bundle is missing from the class path or corrupt
     * @throws StateException if {@code stateDir} holds a state that cannot be read or does not fit the default bundle
     *     (the new learner is closed first)
     * @throws BackendException if a backend or ONNX Runtime fails while opening the model
     */
    public static Learner loadDefault(Path stateDir) {
        return resume(loadDefault(), stateDir);
    }

    /** {@code l} restored from {@code stateDir} when it holds a saved state; closed if the state is refused. */
    private static Learner resume(Learner l, Path stateDir) {
        try {
            if (Learner.hasSavedState(stateDir)) {
                l.restore(stateDir);
            }
            return l;
        } catch (RuntimeException e) {
            l.close();
            throw e;
        }
    }

    /**
     * Loads the default model embedded in the jar.
     *
     * @return a new learner on the pretrained default bundle with {@link LearnerOptions#defaults()}; the caller closes it
     * @throws BundleException if the default bundle is missing from the class path or corrupt
     * @throws BackendException if a backend or ONNX Runtime fails while opening the model
     */
    public static Learner loadDefault() {
        return loadDefault(LearnerOptions.defaults());
    }

    /**
     * Loads the default model embedded in the jar with {@code options}.
     *
     * @param options how the learner runs (backend, graph provider, experience size, E, anchor...); not null
     * @return a new learner on the pretrained default bundle; the caller closes it
     * @throws BundleException if the default bundle is missing from the class path or corrupt
     * @throws BackendUnavailableException if {@code options} names a backend explicitly and it cannot run here
     * @throws BackendException if a backend or ONNX Runtime fails while opening the model
     */
    public static Learner loadDefault(LearnerOptions options) {
        return open(Bundle.loadDefault(), options);
    }

    /** The frozen graphs of open learners, by bundle (weakly: a bundle no one holds goes) and graph options. */
    private static final java.util.Map<Bundle, java.util.Map<FrozenGraphs.Options, java.util.List<java.lang.ref.WeakReference<FrozenGraphs>>>> GRAPHS =
            new java.util.WeakHashMap<>();

    /**
     * Frozen graphs for a new learner: a {@link FrozenGraphs#view view} of an open learner's on the same bundle object with
     * the same options (nine ONNX Runtime sessions, about 15 MB of native memory and 0.1 s, not opened again), else new ones.
     */
    static FrozenGraphs graphs(Bundle bundle, FrozenGraphs.Options go, int maxRows) {
        synchronized (GRAPHS) {
            var refs = GRAPHS.computeIfAbsent(bundle, b -> new java.util.HashMap<>()).computeIfAbsent(go, o -> new java.util.ArrayList<>());
            for (var it = refs.iterator(); it.hasNext(); ) {
                FrozenGraphs g = it.next().get();
                if (g == null) {
                    it.remove();
                    continue;
                }
                FrozenGraphs v;
                try {
                    v = g.view(maxRows);
                } catch (IllegalStateException closed) {
                    it.remove(); // its learner closed it (its views may still run: each is in the list too)
                    continue;
                }
                refs.add(new java.lang.ref.WeakReference<>(v));
                return v;
            }
            FrozenGraphs g = new FrozenGraphs(bundle, go, maxRows);
            refs.add(new java.lang.ref.WeakReference<>(g));
            return g;
        }
    }

    /**
     * Opens a learner on an already loaded bundle.
     *
     * @param bundle a verified bundle from {@link Bundle#load} or {@link Bundle#loadDefault}; not null. Several
     *     learners may share one bundle, each with its own engines and state; learners opened on the same bundle object
     *     with the same graph options also share its ONNX Runtime sessions (each with buffers of its own), which stay
     *     open until the last of them closes
     * @param options how the learner runs (backend, graph provider, experience size, E, anchor...); not null
     * @return a new learner on the bundle's pretrained model (with a second, never-learning engine as the anchor
     *     when {@link LearnerOptions#anchorShare()} is above 0); the caller closes it
     * @throws BackendUnavailableException if {@code options} names a backend explicitly and it cannot run here
     *     ({@code "auto"} falls back to the CPU and throws only when no backend at all can run)
     * @throws BackendException if a backend or ONNX Runtime fails while opening the model
     */
    public static Learner open(Bundle bundle, LearnerOptions options) {
        Backends.Selection sel = Backends.select(options.backend());
        // the manifest's rates (scaled), periods and L1/L2 decays to the prior (not scaled: EngineSpec.of says why)
        var spec = org.hope4j.engine.EngineSpec.of(bundle.manifest(), options.singleTimescale(), options.rateScale());
        FrozenGraphs.Options go = new FrozenGraphs.Options(options.graphProvider(), options.graphThreads(), options.deviceId());
        FrozenGraphs graphs = graphs(bundle, go, spec.maxSpan());
        Engine engine;
        try {
            engine = sel.backend().open(spec, bundle.plastic(), options.deviceId());
        } catch (RuntimeException e) {
            graphs.close();
            throw e;
        }
        Engine anchor = null;
        org.hope4j.level.EpisodicLevel episodic;
        try {
            if (options.anchorShare() > 0) {
                // never steps: the pretrained model, opened only when the learner's CMS levels first leave the bundle's
                // weights (before that it is idle), in the state the learner's engine has now
                org.hope4j.engine.Backend backend = sel.backend();
                anchor = new org.hope4j.engine.LazyEngine(spec, engine.exportState(), () -> backend.open(spec, bundle.plastic(), options.deviceId()));
            }
            episodic = options.episodic() == null ? null : new org.hope4j.level.EpisodicLevel(options.episodic(), org.hope4j.level.EpisodicLevel.Prior.of(bundle));
        } catch (RuntimeException | OutOfMemoryError e) {
            engine.close();
            if (anchor != null) {
                anchor.close();
            }
            graphs.close();
            throw e;
        }
        var sleeps = new org.hope4j.consolidation.SleepSession(bundle, sel.backend(), graphs, spec, options.deviceId());
        return new org.hope4j.learner.HopeLearner(bundle, graphs, engine, anchor, options.anchorShare(), sel.info(), options.experienceBytes(), sleeps, episodic,
                options.stateKey());
    }
}
