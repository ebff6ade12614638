package org.hope4j.bundle;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.hope4j.BundleException;

/**
 * The bundle's {@code manifest.json}, as written by {@code model-export} ({@code write_bundle} in
 * {@code hope_export/export.py}): format version, model shape, levels with their periods and
 * learning rates, plastic blocks, the ONNX segments with their inputs and outputs, the golden vectors
 * and the SHA-256 of every file.
 *
 * <p>{@link #parse} checks the JSON against these records (every field present with the right JSON
 * type; unknown fields are ignored), then {@link #validate()} checks every value and their
 * consistency. Messages name the file and the field, the expected and the found value, for example
 * {@code manifest.json: levels[2].period must be a multiple of levels[1].period (64), found 100}.
 *
 * @param format always {@value #FORMAT}
 * @param formatVersion the bundle format version; this runtime reads {@link Versions#bundleFormat()}
 * @param model the model's shape
 * @param levels L0 to L3, in that order
 * @param plasticBlocks the blocks whose L0/L1/L2 levels learn on the device
 * @param teach how lower blocks get their error signal; only {@code residual} is supported
 * @param segments the frozen ONNX segments
 * @param plastic the safetensors file with the initial plastic parameters and the head
 * @param golden the reference's golden vectors, under {@code golden/}
 * @param training facts about pre-training, free form (empty if absent)
 * @param probe the retention probe that guards every sleep's commit (absent in bundles made before sleep)
 * @param rehearsal general text that sleep rehearses so the model keeps what it knew (optional)
 * @param episodic the episodic level's fitted prior (mixer weights), optional: without it the level
 *     starts from a neutral prior
 * @param files every file of the bundle (relative path with {@code /}) and its SHA-256 in hex
 */
public record Manifest(String format, int formatVersion, ModelConfig model, List<Level> levels, List<Integer> plasticBlocks,
                       String teach, List<Segment> segments, String plastic, Golden golden, @Optional Map<String, Object> training,
                       @Optional Probe probe, @Optional Probe rehearsal, @Optional EpisodicPrior episodic, Map<String, String> files) {

    /** The value of {@code format}. */
    public static final String FORMAT = "hope4j-bundle";
    /** The teach rules this runtime implements. */
    public static final List<String> TEACH_RULES = List.of("residual");
    /** The vocabulary: bytes. */
    public static final int VOCAB = 256;
    /** Memory types of a self-modifying memory (k, v, memory, eta, alpha): columns of {@code b_eta}/{@code b_alpha}. */
    public static final int MEMORY_TYPES = 5;
    /** The level names, in order. */
    public static final List<String> LEVEL_NAMES = List.of("L0", "L1", "L2", "L3");
    /**
     * The largest period of L0, L1 and L2 a bundle may declare: an engine's working arrays grow with the
     * L0 chunk squared and with the L1 chunk, so no manifest can make the runtime allocate without bound.
     */
    static final int[] MAX_PERIOD = {1024, 4096, 1 << 20};
    /** The largest inner learning rate (L1, L2) and L0 rate bound (eta_max) a bundle may declare. */
    static final double MAX_RATE = 1.0;

    private static final String GOLDEN_DIR = "golden/";
    private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");
    private static final Gson GSON = new GsonBuilder().setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES).create();

    /**
     * Copies the collections into unmodifiable ones; {@code training} may be absent.
     *
     * @param format always {@value #FORMAT}
     * @param formatVersion the bundle format version; this runtime reads {@link Versions#bundleFormat()}
     * @param model the model's shape
     * @param levels L0 to L3, in that order
     * @param plasticBlocks the blocks whose L0/L1/L2 levels learn on the device
     * @param teach how lower blocks get their error signal; only {@code residual} is supported
     * @param segments the frozen ONNX segments
     * @param plastic the safetensors file with the initial plastic parameters and the head
     * @param golden the reference's golden vectors, under {@code golden/}
     * @param training facts about pre-training, free form (empty if absent)
     * @param probe the retention probe, or {@code null}
     * @param rehearsal the rehearsal text, or {@code null}
     * @param episodic the episodic level's prior, or {@code null}
     * @param files every file of the bundle (relative path with {@code /}) and its SHA-256 in hex
     */
    public Manifest {
        levels = copyList(levels);
        plasticBlocks = copyList(plasticBlocks);
        segments = copyList(segments);
        training = training == null ? Map.of() : copyMap(training);
        files = copyMap(files);
    }

    /**
     * The model's shape ({@code model} in the manifest).
     *
     * @param vocab vocabulary size, always 256 (bytes)
     * @param dModel width of the residual stream, {@code D = nHeads * headDim}
     * @param nBlocks number of blocks
     * @param nHeads memory heads per block
     * @param headDim width of one head
     * @param memRows rows of one head's stacked memory, {@code 3 * headDim + 2 * 5}
     * @param convWidth width of the short causal convolution in the mixer
     * @param slowHidden hidden width of the frozen slow (L3) CMS MLP
     * @param midHidden hidden width of the L2 CMS MLP ({@code F2})
     * @param fastHidden hidden width of the L1 CMS MLP ({@code F1})
     * @param normEps epsilon of the RMS norms
     * @param etaMax bound of the memories' inner learning rate
     * @param parameters total parameter count
     */
    public record ModelConfig(int vocab, int dModel, int nBlocks, int nHeads, int headDim, int memRows, int convWidth,
                              int slowHidden, int midHidden, int fastHidden, double normEps, double etaMax, long parameters) {
    }

    /**
     * One level: a group of parameters that changes at one frequency.
     *
     * @param name {@code L0} to {@code L3}
     * @param what a human description
     * @param period positions (bytes) between updates; {@code null} for L3, which never changes on device
     * @param learningRate per-block inner learning rates of L1 and L2; {@code null} for L0 and L3
     * @param decay per-block decay to the prior of L1 and L2, each in [0, 1): at every update the level
     *     steps {@code theta <- theta - decay[b] (theta - theta0) - learningRate[b] G}, theta0 its initial
     *     value in {@code plastic.safetensors}; {@code null} (absent) means 0, the plain Eq. 71 rule; always
     *     {@code null} for L0 and L3
     */
    public record Level(String name, String what, @Optional Integer period, @Optional List<Double> learningRate,
                        @Optional List<Double> decay) {
        /**
         * Copies the learning rates and decays into unmodifiable lists.
         *
         * @param name {@code L0} to {@code L3}
         * @param what a human description
         * @param period positions (bytes) between updates; {@code null} for L3, which never changes on device
         * @param learningRate per-block inner learning rates of L1 and L2; {@code null} for L0 and L3
         * @param decay per-block decay to the prior of L1 and L2 in [0, 1); {@code null} for none (and for L0, L3)
         */
        public Level {
            learningRate = learningRate == null ? null : copyList(learningRate);
            decay = decay == null ? null : copyList(decay);
        }

        /**
         * A level without decay to the prior.
         *
         * @param name {@code L0} to {@code L3}
         * @param what a human description
         * @param period positions (bytes) between updates; {@code null} for L3
         * @param learningRate per-block inner learning rates of L1 and L2; {@code null} for L0 and L3
         */
        public Level(String name, String what, Integer period, List<Double> learningRate) {
            this(name, what, period, learningRate, null);
        }

        /**
         * The decay to the prior of block {@code block}: 0 when the level has none.
         *
         * @param block a block index
         * @return lambda in [0, 1)
         */
        public double decayOf(int block) {
            return decay == null ? 0.0 : decay.get(block);
        }
    }

    /**
     * One frozen ONNX segment.
     *
     * @param name {@code embed}, {@code mixer_in_<b>} or {@code mixer_out_<b>}
     * @param file the ONNX file, relative to the bundle
     * @param inputs the graph's inputs, in order
     * @param outputs the graph's outputs, in order
     */
    public record Segment(String name, String file, List<Port> inputs, List<Port> outputs) {
        /**
         * Copies the ports into unmodifiable lists.
         *
         * @param name {@code embed}, {@code mixer_in_<b>} or {@code mixer_out_<b>}
         * @param file the ONNX file, relative to the bundle
         * @param inputs the graph's inputs, in order
         * @param outputs the graph's outputs, in order
         */
        public Segment {
            inputs = copyList(inputs);
            outputs = copyList(outputs);
        }
    }

    /**
     * One input or output of a segment.
     *
     * @param name the ONNX value name
     * @param shape the dimensions; {@code -1} is the dynamic sequence axis
     * @param type {@code float32} or {@code int64}
     */
    public record Port(String name, List<Integer> shape, String type) {
        /**
         * Copies the shape into an unmodifiable list.
         *
         * @param name the ONNX value name
         * @param shape the dimensions; {@code -1} is the dynamic sequence axis
         * @param type {@code float32} or {@code int64}
         */
        public Port {
            shape = copyList(shape);
        }

        @Override
        public String toString() {
            return name + " " + shape + " " + type;
        }
    }

    /**
     * The reference's golden vectors for parity tests; every file is under {@code golden/}.
     *
     * @param stream the byte stream the runs were computed on
     * @param streamBytes its length
     * @param runs the runs over the stream by name ({@code learn_on}, {@code learn_off}, ...)
     * @param segments per-segment inputs and outputs at several sequence lengths
     * @param tolerances the parity tolerances
     */
    public record Golden(String stream, int streamBytes, Map<String, GoldenRun> runs, GoldenSegments segments, Tolerances tolerances) {
        /**
         * Copies the runs into an unmodifiable map.
         *
         * @param stream the byte stream the runs were computed on
         * @param streamBytes its length
         * @param runs the runs over the stream by name ({@code learn_on}, {@code learn_off}, ...)
         * @param segments per-segment inputs and outputs at several sequence lengths
         * @param tolerances the parity tolerances
         */
        public Golden {
            runs = copyMap(runs);
        }
    }

    /**
     * One golden run over the stream.
     *
     * @param file safetensors with the logits and the state after the stream
     * @param learning which levels learned ({@code l0}, {@code l1}, {@code l2})
     * @param counts how many updates each level made
     */
    public record GoldenRun(String file, Map<String, Boolean> learning, Map<String, Long> counts) {
        /**
         * Copies the maps into unmodifiable ones.
         *
         * @param file safetensors with the logits and the state after the stream
         * @param learning which levels learned ({@code l0}, {@code l1}, {@code l2})
         * @param counts how many updates each level made
         */
        public GoldenRun {
            learning = copyMap(learning);
            counts = copyMap(counts);
        }
    }

    /**
     * Golden inputs and outputs of each segment.
     *
     * @param file the safetensors file
     * @param lengths the sequence lengths it covers
     */
    public record GoldenSegments(String file, List<Integer> lengths) {
        /**
         * Copies the lengths into an unmodifiable list.
         *
         * @param file the safetensors file
         * @param lengths the sequence lengths it covers
         */
        public GoldenSegments {
            lengths = copyList(lengths);
        }
    }

    /**
     * Parity tolerances.
     *
     * @param logitsMaxRel on logits after the stream
     * @param weightsMaxRel on plastic weights after the stream
     * @param segmentsMaxAbs on ONNX segment outputs
     * @param definition how the error is measured
     */
    public record Tolerances(double logitsMaxRel, double weightsMaxRel, double segmentsMaxAbs, String definition) {
    }

    /**
     * A text the bundle ships for sleep: the retention probe (held-out general text that every sleep
     * must not get worse on by more than its bound, ARCHITECTURE.md §3) or the rehearsal text
     * (general text from the pre-training split that sleep distils the model's start on).
     *
     * @param file the text's bytes, a file of the bundle
     * @param bytes its length
     * @param source where the text comes from, in words
     */
    public record Probe(String file, int bytes, String source) {
    }

    /**
     * The episodic level's prior ({@code episodic} in the manifest): the JSON file with the mixer's
     * initial weights and the match model's initial confidences, fitted on training text.
     *
     * @param file the JSON file, listed in {@code files}
     * @param source what it was fitted on
     */
    public record EpisodicPrior(String file, String source) {
    }

    /** Marks a record component that may be absent or {@code null} in the JSON. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.RECORD_COMPONENT, ElementType.PARAMETER, ElementType.FIELD, ElementType.METHOD})
    @interface Optional {
    }

    // ---------------------------------------------------------------------------------------------
    // Parsing

    /**
     * Parses and validates a manifest.
     *
     * @param json the text of {@code manifest.json}
     * @param origin what to name in messages, for example {@code manifest.json} or its path
     * @return the validated manifest
     * @throws BundleException naming {@code origin} and the field if the JSON is malformed, a field
     *     is missing or has the wrong type, or a value is invalid
     */
    public static Manifest parse(String json, String origin) {
        Objects.requireNonNull(json, "json");
        Objects.requireNonNull(origin, "origin");
        JsonObject tree = StrictJson.parseObject(json, origin);
        checkJson(tree, Manifest.class, "", false, origin);
        Manifest m;
        try {
            m = GSON.fromJson(tree, Manifest.class);
        } catch (JsonParseException | IllegalArgumentException e) {
            throw new BundleException(origin + ": cannot map to the manifest records: " + e.getMessage(), e);
        }
        m.validate(origin);
        return m;
    }

    /**
     * Checks that a JSON value has the JSON type of a Java type: records become objects with every
     * non-{@link Optional} component present, lists arrays, maps objects, ints integers in range.
     */
    private static void checkJson(JsonElement e, Type type, String path, boolean optional, String origin) {
        if (e == null || e.isJsonNull()) {
            if (optional) {
                return;
            }
            throw new BundleException(origin + ": " + path + (e == null ? " is missing" : " must not be null"));
        }
        if (type instanceof ParameterizedType p) {
            Type raw = p.getRawType();
            if (raw == List.class) {
                if (!e.isJsonArray()) {
                    throw new BundleException(origin + ": " + path + " must be an array, found " + StrictJson.show(e));
                }
                JsonArray a = e.getAsJsonArray();
                for (int i = 0; i < a.size(); i++) {
                    checkJson(a.get(i), p.getActualTypeArguments()[0], path + "[" + i + "]", false, origin);
                }
                return;
            }
            if (raw == Map.class) {
                if (!e.isJsonObject()) {
                    throw new BundleException(origin + ": " + path + " must be an object, found " + StrictJson.show(e));
                }
                for (Map.Entry<String, JsonElement> en : e.getAsJsonObject().entrySet()) {
                    checkJson(en.getValue(), p.getActualTypeArguments()[1], path + "[\"" + en.getKey() + "\"]", false, origin);
                }
                return;
            }
            throw new IllegalStateException("unsupported manifest type " + type);
        }
        Class<?> c = (Class<?>) type;
        if (c == Object.class) {
            return;
        }
        if (c == String.class) {
            if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isString())) {
                throw new BundleException(origin + ": " + path + " must be a string, found " + StrictJson.show(e));
            }
        } else if (c == Boolean.class || c == boolean.class) {
            if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean())) {
                throw new BundleException(origin + ": " + path + " must be true or false, found " + StrictJson.show(e));
            }
        } else if (c == Integer.class || c == int.class || c == Long.class || c == long.class) {
            BigDecimal v = e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() ? e.getAsBigDecimal() : null;
            boolean isLong = c == Long.class || c == long.class;
            if (v == null || v.stripTrailingZeros().scale() > 0
                    || v.compareTo(BigDecimal.valueOf(isLong ? Long.MIN_VALUE : Integer.MIN_VALUE)) < 0
                    || v.compareTo(BigDecimal.valueOf(isLong ? Long.MAX_VALUE : Integer.MAX_VALUE)) > 0) {
                throw new BundleException(origin + ": " + path + " must be an integer, found " + StrictJson.show(e));
            }
        } else if (c == Double.class || c == double.class) {
            if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) || !Double.isFinite(e.getAsDouble())) {
                throw new BundleException(origin + ": " + path + " must be a finite number, found " + StrictJson.show(e));
            }
        } else if (c.isRecord()) {
            if (!e.isJsonObject()) {
                throw new BundleException(origin + ": " + (path.isEmpty() ? "the manifest" : path) + " must be an object, found "
                        + StrictJson.show(e));
            }
            JsonObject o = e.getAsJsonObject();
            for (RecordComponent rc : c.getRecordComponents()) {
                String key = jsonName(c, rc);
                checkJson(o.get(key), rc.getGenericType(), path.isEmpty() ? key : path + "." + key,
                        rc.isAnnotationPresent(Optional.class), origin);
            }
        } else {
            throw new IllegalStateException("unsupported manifest type " + type);
        }
    }

    private static String jsonName(Class<?> record, RecordComponent rc) {
        try {
            return FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES.translateName(record.getDeclaredField(rc.getName()));
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Validation

    /**
     * Validates every value, naming {@code manifest.json} in messages.
     *
     * @throws BundleException naming the field, the expected and the found value
     */
    public void validate() {
        validate("manifest.json");
    }

    /**
     * Validates every value: format and version, model shape, levels, plastic blocks, teach rule,
     * segments with their exact ports, golden section, and that every file referenced is listed in
     * {@code files} with a SHA-256.
     *
     * @param origin what to name in messages
     * @throws BundleException naming {@code origin}, the field, the expected and the found value
     */
    public void validate(String origin) {
        Check c = new Check(origin);
        if (!FORMAT.equals(format)) {
            throw c.fail("format must be \"" + FORMAT + "\", found " + quote(format));
        }
        int supported = Versions.bundleFormat();
        if (formatVersion != supported) {
            throw c.fail("format_version must be " + supported + " (the bundle format this runtime reads), found " + formatVersion);
        }
        c.notNull(model, "model");
        validateModel(c);
        c.notNull(levels, "levels");
        validateLevels(c);
        c.notNull(plasticBlocks, "plastic_blocks");
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < plasticBlocks.size(); i++) {
            Integer b = plasticBlocks.get(i);
            c.notNull(b, "plastic_blocks[" + i + "]");
            if (b < 0 || b >= model.nBlocks()) {
                throw c.fail("plastic_blocks[" + i + "] must be a block in 0.." + (model.nBlocks() - 1) + ", found " + b);
            }
            if (!seen.add(b)) {
                throw c.fail("plastic_blocks[" + i + "] repeats block " + b);
            }
        }
        if (!TEACH_RULES.contains(teach)) {
            throw c.fail("teach must be one of " + TEACH_RULES + ", found " + quote(teach));
        }
        c.notNull(files, "files");
        for (Map.Entry<String, String> f : files.entrySet()) {
            String where = "files[\"" + f.getKey() + "\"]";
            if (!isPlainRelativePath(f.getKey())) {
                throw c.fail(where + ": the name must be a plain relative path inside the bundle (no \"..\", \".\", \"\\\", leading \"/\")");
            }
            if (f.getKey().equals("manifest.json")) {
                throw c.fail(where + ": the manifest cannot list its own checksum");
            }
            if (f.getValue() == null || !SHA256.matcher(f.getValue()).matches()) {
                throw c.fail(where + " must be a SHA-256 of 64 hex digits, found " + quote(f.getValue()));
            }
        }
        c.notNull(segments, "segments");
        validateSegments(c);
        c.listed(plastic, "plastic", files);
        c.notNull(golden, "golden");
        validateGolden(c);
        validateText(c, "probe", probe);
        validateText(c, "rehearsal", rehearsal);
        if (episodic != null) {
            c.listed(episodic.file(), "episodic.file", files);
        }
    }

    private void validateText(Check c, String field, Probe p) {
        if (p != null) {
            c.listed(p.file(), field + ".file", files);
            if (p.bytes() < 2) {
                throw c.fail(field + ".bytes must be >= 2, found " + p.bytes());
            }
        }
    }

    private void validateModel(Check c) {
        ModelConfig m = model;
        if (m.vocab() != VOCAB) {
            throw c.fail("model.vocab must be " + VOCAB + " (bytes), found " + m.vocab());
        }
        c.positive(m.dModel(), "model.d_model");
        c.positive(m.nBlocks(), "model.n_blocks");
        c.positive(m.nHeads(), "model.n_heads");
        c.positive(m.headDim(), "model.head_dim");
        c.positive(m.convWidth(), "model.conv_width");
        c.positive(m.slowHidden(), "model.slow_hidden");
        c.positive(m.midHidden(), "model.mid_hidden");
        c.positive(m.fastHidden(), "model.fast_hidden");
        if (m.parameters() <= 0) {
            throw c.fail("model.parameters must be positive, found " + m.parameters());
        }
        if ((long) m.nHeads() * m.headDim() != m.dModel()) {
            throw c.fail("model.d_model must equal model.n_heads * model.head_dim (" + m.nHeads() + " * " + m.headDim() + " = "
                    + (long) m.nHeads() * m.headDim() + "), found " + m.dModel());
        }
        long rows = 3L * m.headDim() + 2L * MEMORY_TYPES;
        if (m.memRows() != rows) {
            throw c.fail("model.mem_rows must be 3 * model.head_dim + " + 2 * MEMORY_TYPES + " (" + rows + "), found " + m.memRows());
        }
        if (!(Double.isFinite(m.normEps()) && m.normEps() > 0)) {
            throw c.fail("model.norm_eps must be a finite number > 0, found " + m.normEps());
        }
        if (!(Double.isFinite(m.etaMax()) && m.etaMax() > 0 && m.etaMax() <= MAX_RATE)) {
            throw c.fail("model.eta_max must be a number in (0, " + MAX_RATE + "], found " + m.etaMax());
        }
    }

    private void validateLevels(Check c) {
        if (levels.size() != LEVEL_NAMES.size()) {
            throw c.fail("levels must list " + LEVEL_NAMES + " in order, found " + levels.size() + " levels");
        }
        for (int i = 0; i < levels.size(); i++) {
            Level l = levels.get(i);
            String where = "levels[" + i + "]";
            c.notNull(l, where);
            if (!LEVEL_NAMES.get(i).equals(l.name())) {
                throw c.fail(where + ".name must be \"" + LEVEL_NAMES.get(i) + "\", found " + quote(l.name()));
            }
            c.notNull(l.what(), where + ".what");
            if (i < 3) {
                if (l.period() == null || l.period() <= 0 || l.period() > MAX_PERIOD[i]) {
                    throw c.fail(where + ".period must be an integer in 1.." + MAX_PERIOD[i] + ", found " + l.period());
                }
            } else if (l.period() != null) {
                throw c.fail(where + ".period must be null (L3 never changes on the device), found " + l.period());
            }
            boolean hasRate = i == 1 || i == 2;
            if (hasRate) {
                List<Double> lr = l.learningRate();
                if (lr == null) {
                    throw c.fail(where + ".learning_rate is missing");
                }
                if (lr.size() != model.nBlocks()) {
                    throw c.fail(where + ".learning_rate must have one rate per block (model.n_blocks = " + model.nBlocks() + "), found "
                            + lr.size());
                }
                for (int b = 0; b < lr.size(); b++) {
                    Double r = lr.get(b);
                    if (r == null || !Double.isFinite(r) || r < 0 || r > MAX_RATE) {
                        throw c.fail(where + ".learning_rate[" + b + "] must be a number in [0, " + MAX_RATE + "], found " + r);
                    }
                }
            } else if (l.learningRate() != null) {
                throw c.fail(where + ".learning_rate must be absent (" + (i == 0 ? "L0's rate is input-dependent" : "L3 is frozen")
                        + "), found " + l.learningRate());
            }
            List<Double> decay = l.decay();
            if (decay != null) {
                if (!hasRate) {
                    throw c.fail(where + ".decay must be absent (decay to the prior is a rule of L1 and L2 only), found " + decay);
                }
                if (decay.size() != model.nBlocks()) {
                    throw c.fail(where + ".decay must have one value per block (model.n_blocks = " + model.nBlocks() + "), found "
                            + decay.size());
                }
                for (int b = 0; b < decay.size(); b++) {
                    Double v = decay.get(b);
                    if (v == null || !(v >= 0 && v < 1)) {
                        throw c.fail(where + ".decay[" + b + "] must be a number in [0, 1), found " + v);
                    }
                }
            }
        }
        int p1 = levels.get(1).period();
        int p2 = levels.get(2).period();
        if (p2 % p1 != 0) {
            throw c.fail("levels[2].period must be a multiple of levels[1].period (" + p1 + "), found " + p2);
        }
    }

    private void validateSegments(Check c) {
        Map<String, Segment> expected = expectedSegments(model);
        Set<String> found = new HashSet<>();
        for (int i = 0; i < segments.size(); i++) {
            Segment s = segments.get(i);
            String where = "segments[" + i + "]";
            c.notNull(s, where);
            Segment want = expected.get(s.name());
            if (want == null) {
                throw c.fail(where + ".name must be one of " + expected.keySet() + ", found " + quote(s.name()));
            }
            if (!found.add(s.name())) {
                throw c.fail(where + ".name repeats segment " + quote(s.name()));
            }
            where = where + " (" + s.name() + ")";
            c.listed(s.file(), where + ".file", files);
            checkPorts(c, where + ".inputs", want.inputs(), s.inputs());
            checkPorts(c, where + ".outputs", want.outputs(), s.outputs());
        }
        for (String name : expected.keySet()) {
            if (!found.contains(name)) {
                throw c.fail("segments must include " + quote(name) + " (model.n_blocks = " + model.nBlocks() + "), but it is missing");
            }
        }
    }

    private static void checkPorts(Check c, String where, List<Port> want, List<Port> found) {
        c.notNull(found, where);
        if (found.size() != want.size()) {
            throw c.fail(where + " must be " + want + ", found " + found);
        }
        for (int j = 0; j < want.size(); j++) {
            if (!want.get(j).equals(found.get(j))) {
                throw c.fail(where + "[" + j + "] must be " + want.get(j) + ", found " + found.get(j));
            }
        }
    }

    /**
     * The segments a model of this shape has, with their exact ports, in export order.
     *
     * @param m the model shape
     * @return segments by name ({@code file} is the conventional name; the manifest may use another)
     */
    static Map<String, Segment> expectedSegments(ModelConfig m) {
        int d = m.dModel();
        List<Integer> seq = List.of(-1, d);
        List<Integer> conv = List.of(m.convWidth() - 1, 2 * d);
        Map<String, Segment> s = new LinkedHashMap<>();
        s.put("embed", new Segment("embed", "embed.onnx", List.of(new Port("tokens", List.of(-1), "int64")),
                List.of(new Port("x", seq, "float32"))));
        for (int b = 0; b < m.nBlocks(); b++) {
            s.put("mixer_in_" + b, new Segment("mixer_in_" + b, "mixer_in_" + b + ".onnx",
                    List.of(new Port("x", seq, "float32"), new Port("conv_state", conv, "float32")),
                    List.of(new Port("q", seq, "float32"), new Port("u", seq, "float32"), new Port("conv_state_out", conv, "float32"))));
            s.put("mixer_out_" + b, new Segment("mixer_out_" + b, "mixer_out_" + b + ".onnx",
                    List.of(new Port("x", seq, "float32"), new Port("o", seq, "float32")),
                    List.of(new Port("x2", seq, "float32"))));
        }
        return s;
    }

    private void validateGolden(Check c) {
        Golden g = golden;
        c.notNull(g.stream(), "golden.stream");
        c.notNull(g.runs(), "golden.runs");
        c.notNull(g.segments(), "golden.segments");
        c.notNull(g.segments().lengths(), "golden.segments.lengths");
        c.notNull(g.tolerances(), "golden.tolerances");
        c.listed(GOLDEN_DIR + g.stream(), "golden.stream", files);
        c.positive(g.streamBytes(), "golden.stream_bytes");
        if (g.runs().isEmpty()) {
            throw c.fail("golden.runs must name at least one run, found none");
        }
        for (Map.Entry<String, GoldenRun> r : g.runs().entrySet()) {
            c.listed(GOLDEN_DIR + r.getValue().file(), "golden.runs[\"" + r.getKey() + "\"].file", files);
        }
        c.listed(GOLDEN_DIR + g.segments().file(), "golden.segments.file", files);
        if (g.segments().lengths().isEmpty()) {
            throw c.fail("golden.segments.lengths must list at least one length, found none");
        }
        for (int i = 0; i < g.segments().lengths().size(); i++) {
            c.positive(g.segments().lengths().get(i), "golden.segments.lengths[" + i + "]");
        }
        Tolerances t = g.tolerances();
        c.positiveFinite(t.logitsMaxRel(), "golden.tolerances.logits_max_rel");
        c.positiveFinite(t.weightsMaxRel(), "golden.tolerances.weights_max_rel");
        c.positiveFinite(t.segmentsMaxAbs(), "golden.tolerances.segments_max_abs");
    }

    // ---------------------------------------------------------------------------------------------
    // Queries

    /**
     * Returns a segment by name.
     *
     * @param name for example {@code mixer_in_0}
     * @return the segment
     * @throws BundleException if the manifest has no such segment
     */
    public Segment segment(String name) {
        for (Segment s : segments) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        throw new BundleException("manifest.json has no segment " + quote(name));
    }

    /**
     * Returns the path of a golden file relative to the bundle.
     *
     * @param file a name under {@code golden/}, for example {@code learn_on.safetensors}
     * @return {@code golden/} + {@code file}
     */
    public static String goldenPath(String file) {
        return file.startsWith(GOLDEN_DIR) ? file : GOLDEN_DIR + file;
    }

    /**
     * Tells whether a name is a plain relative path inside a bundle: parts separated by {@code /}, none
     * empty, {@code .} or {@code ..}, no backslash, no colon, no control character.
     */
    static boolean isPlainRelativePath(String p) {
        if (p == null || p.isEmpty() || p.startsWith("/") || p.indexOf('\\') >= 0 || p.indexOf(':') >= 0) {
            return false;
        }
        for (int i = 0; i < p.length(); i++) {
            if (Character.isISOControl(p.charAt(i))) {
                return false;
            }
        }
        for (String part : p.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                return false;
            }
        }
        return true;
    }

    private static String quote(String s) {
        return s == null ? "null" : "\"" + s + "\"";
    }

    private static <T> List<T> copyList(List<T> list) {
        return list == null ? null : Collections.unmodifiableList(new ArrayList<>(list));
    }

    private static <K, V> Map<K, V> copyMap(Map<K, V> map) {
        return map == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }

    /** Failure messages with the origin in front. */
    private record Check(String origin) {
        BundleException fail(String message) {
            return new BundleException(origin + ": " + message);
        }

        void notNull(Object o, String field) {
            if (o == null) {
                throw fail(field + " is missing");
            }
        }

        void positive(long v, String field) {
            if (v <= 0) {
                throw fail(field + " must be positive, found " + v);
            }
        }

        void positiveFinite(double v, String field) {
            if (!(Double.isFinite(v) && v > 0)) {
                throw fail(field + " must be a finite number > 0, found " + v);
            }
        }

        void listed(String file, String field, Map<String, String> files) {
            if (file == null) {
                throw fail(field + " is missing");
            }
            if (!files.containsKey(file)) {
                throw fail(field + " names " + quote(file) + ", which is not listed in files");
            }
        }
    }
}
