package org.hope4j;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.hope4j.bundle.Bundle;
import org.hope4j.bundle.BundleSource;
import org.hope4j.bundle.Manifest;
import org.hope4j.bundle.Safetensors;
import org.hope4j.bundle.Tensor;
import org.hope4j.consolidation.ExperienceBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Property-based fuzzing (jqwik) of everything that reads bytes from disk: the safetensors reader, the
 * manifest parser, the experience buffer and a learner's restore. Each mutated input (flipped bytes,
 * truncations, absurd lengths, spliced or repeated spans, edited numbers) must either load or be
 * refused with a {@link HopeException} -- never another exception, an out-of-memory error or a hang --
 * and a refused restore changes nothing. The default number of tries per property comes from
 * {@code jqwik.tries.default} (junit-platform.properties: 1000 in CI; tests/run-benchmarks.sh runs more).
 */
public class FuzzTest {
    static byte[] tensors;
    static String manifest;
    static byte[] experience;
    static byte[] state;
    static Path dir;
    static Learner learner;

    @BeforeContainer
    static void setUp() throws Exception {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("a", new Tensor("a", new int[] {3, 4}, new float[12]));
        t.put("b.c", new Tensor("b.c", new int[] {5}, new float[] {1, 2, 3, 4, 5}));
        tensors = Safetensors.toBytes(t, Map.of("format", "x", "n", "2"));
        manifest = new String(BundleSource.classpath(Bundle.DEFAULT_PREFIX).read(Bundle.MANIFEST), StandardCharsets.UTF_8);
        dir = Files.createTempDirectory("hope4j-fuzz");
        ExperienceBuffer e = new ExperienceBuffer(4096);
        e.append("Some recent experience of the user.".getBytes(StandardCharsets.UTF_8), 0, 35);
        e.save(dir.resolve("experience.bin"));
        experience = Files.readAllBytes(dir.resolve("experience.bin"));
        learner = Hope.loadDefault(LearnerOptions.defaults().withBackend("cpu").withEpisodic(null));
        learner.observe("The state that the fuzzer mutates. ".repeat(8));
        learner.save(dir.resolve("state"));
        state = Files.readAllBytes(dir.resolve("state/learner.state"));
    }

    @AfterContainer
    static void tearDown() throws Exception {
        learner.close();
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * A mutation of a byte array, reproducible from its seed (jqwik shrinks the seed and the kind). Public:
     * the process-level campaign ({@code MutationIT}) mutates whole files with it.
     */
    public record Mutation(int kind, long seed) {
        /** The mutated copy of {@code in} (which must not be empty). */
        public byte[] apply(byte[] in) {
            Random r = new Random(seed);
            byte[] b = in.clone();
            switch (kind) {
                case 0 -> { // flip 1..8 random bytes
                    for (int i = 0, n = 1 + r.nextInt(8); i < n; i++) {
                        b[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
                    }
                }
                case 1 -> b = Arrays.copyOf(b, r.nextInt(b.length)); // truncate
                case 2 -> { // an absurd length or count in the first 16 bytes (little-endian headers)
                    if (b.length < 9) {
                        return Arrays.copyOf(b, b.length + 9);
                    }
                    int at = r.nextInt(Math.min(16, b.length - 8));
                    long v = switch (r.nextInt(4)) {
                        case 0 -> Long.MAX_VALUE;
                        case 1 -> -1L;
                        case 2 -> 1L << (20 + r.nextInt(40));
                        default -> r.nextLong();
                    };
                    for (int i = 0; i < 8; i++) {
                        b[at + i] = (byte) (v >>> (8 * i));
                    }
                }
                case 3 -> { // a span repeated, or cut out
                    int from = r.nextInt(b.length);
                    int len = Math.min(b.length - from, 1 + r.nextInt(64));
                    byte[] out = new byte[b.length + (r.nextBoolean() ? len : -len)];
                    if (out.length > b.length) {
                        System.arraycopy(b, 0, out, 0, from + len);
                        System.arraycopy(b, from, out, from + len, b.length - from);
                    } else {
                        System.arraycopy(b, 0, out, 0, from);
                        System.arraycopy(b, from + len, out, from, b.length - from - len);
                    }
                    b = out;
                }
                default -> { // random bytes spliced in
                    byte[] junk = new byte[1 + r.nextInt(32)];
                    r.nextBytes(junk);
                    int at = r.nextInt(b.length);
                    System.arraycopy(junk, 0, b, at, Math.min(junk.length, b.length - at));
                }
            }
            return b;
        }
    }

    @Provide
    Arbitrary<Mutation> mutations() {
        return Arbitraries.integers().between(0, 4).flatMap(k -> Arbitraries.longs().map(s -> new Mutation(k, s)));
    }

    /** Runs {@code body}; a {@link HopeException} is a clean refusal, anything else fails the property. */
    static void refusedCleanly(String what, Runnable body) {
        try {
            body.run();
        } catch (HopeException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                fail(what + ": a refusal without a message");
            }
        } catch (Throwable t) {
            fail(what + ": " + t, t);
        }
    }

    @Property
    void safetensorsReaderLoadsOrRefuses(@ForAll("mutations") Mutation m) {
        byte[] b = m.apply(tensors);
        refusedCleanly("safetensors " + m, () -> Safetensors.read(b, "fuzz.safetensors"));
    }

    @Property
    void experienceBufferLoadsOrRefuses(@ForAll("mutations") Mutation m) throws Exception {
        Path f = Files.createTempFile(dir, "experience", ".bin");
        Files.write(f, m.apply(experience));
        refusedCleanly("experience " + m, () -> ExperienceBuffer.load(f, 4096));
        Files.delete(f);
    }

    @Property
    void manifestParserLoadsOrRefuses(@ForAll("mutations") Mutation m, @ForAll("numbers") String number) {
        byte[] raw = m.apply(manifest.getBytes(StandardCharsets.UTF_8));
        refusedCleanly("manifest bytes " + m, () -> Manifest.parse(new String(raw, StandardCharsets.UTF_8), "fuzz/manifest.json"));
        // every number of the manifest in turn replaced by an absurd one
        List<String> numbers = new java.util.ArrayList<>();
        var matcher = java.util.regex.Pattern.compile("(?<=[:\\[,] ?)-?[0-9][0-9.eE+-]*").matcher(manifest);
        while (matcher.find()) {
            numbers.add(matcher.start() + ":" + matcher.end());
        }
        String[] span = numbers.get((int) Math.floorMod(m.seed(), numbers.size())).split(":");
        String edited = manifest.substring(0, Integer.parseInt(span[0])) + number + manifest.substring(Integer.parseInt(span[1]));
        refusedCleanly("manifest number " + number, () -> Manifest.parse(edited, "fuzz/manifest.json"));
    }

    @Provide
    Arbitrary<String> numbers() {
        return Arbitraries.of("0", "-1", "1e308", "-1e308", "1e-320", "2147483648", "9223372036854775807", "65536", "1048576", "268435456",
                "1.5", "100", "NaN", "1e400", "0.0000001");
    }

    @Property(tries = 100)
    void aMutatedStateIsRestoredOrRefusedAndNothingChanges(@ForAll("mutations") Mutation m) throws Exception {
        Path d = dir.resolve("state");
        Files.write(d.resolve("learner.state"), m.apply(state));
        long before = learner.position();
        try {
            learner.restore(d);
        } catch (StateException e) {
            assertEquals(before, learner.position(), "a refused restore changed the learner");
        } catch (Throwable t) {
            fail("restore of " + m + ": " + t, t);
        }
        Files.write(d.resolve("learner.state"), state);
    }
}
