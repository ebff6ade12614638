package org.hope4j.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.module.Configuration;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.junit.jupiter.api.Test;

/**
 * The runtime jar as the named module {@code org.hope4j}, the way an application on the module path uses it: its
 * jar and its dependencies' (Gson, ONNX Runtime, JavaCPP and OpenBLAS with their native jars) on the module path of a
 * child JVM. The default learner opens there (the CPU engine found through the descriptor's {@code provides}),
 * scores exactly what the same code scores on the class path, and the internal packages are closed to the caller.
 */
class ModulePathIT {
    private static final String TEXT = "A learner on the module path reads the same bytes and pays the same bits.\n";
    private static final List<String> JARS = List.of("hope4j-runtime-", "gson-", "onnxruntime-", "javacpp-", "openblas-");

    /** The runtime jar and its dependencies from this test's class path (not the test jar, not the tests' own libraries). */
    static Path[] modulePath() {
        Path[] jars = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator)).map(Path::of)
                .filter(p -> {
                    String n = p.getFileName().toString();
                    return n.endsWith(".jar") && !n.endsWith("-tests.jar") && JARS.stream().anyMatch(n::startsWith);
                }).toArray(Path[]::new);
        assertTrue(Arrays.stream(jars).anyMatch(p -> p.getFileName().toString().startsWith("hope4j-runtime-")),
                "the runtime jar is not on the class path (failsafe runs after package): " + Arrays.toString(jars));
        return jars;
    }

    @Test
    void theRuntimeRunsAsANamedModuleAndHidesItsInternals() throws Exception {
        ModuleFinder finder = ModuleFinder.of(modulePath());
        Set<String> found = finder.findAll().stream().map(r -> r.descriptor().name()).collect(Collectors.toSet());
        assertTrue(found.containsAll(Set.of("org.hope4j", "com.google.gson", "com.microsoft.onnxruntime", "org.bytedeco.javacpp",
                "org.bytedeco.openblas")), "modules found: " + found);
        ModuleReference runtime = finder.find("org.hope4j").orElseThrow();
        assertFalse(runtime.descriptor().isAutomatic(), "the runtime jar carries its own module descriptor");
        // the descriptor resolves against the JDK and these jars alone, services bound (native libraries load once per
        // JVM, so the learner itself runs in a child JVM below)
        Configuration cf = ModuleLayer.boot().configuration().resolveAndBind(finder, ModuleFinder.of(), Set.of("org.hope4j"));
        assertTrue(cf.findModule("org.bytedeco.openblas").isPresent() && cf.findModule("com.microsoft.onnxruntime").isPresent());

        double onClassPath;
        try (Learner l = Hope.loadDefault()) {
            onClassPath = l.score(TEXT).bitsPerByte();
        }
        String mp = Arrays.stream(modulePath()).map(Path::toString).collect(Collectors.joining(File.pathSeparator));
        Path testClasses = Path.of(ModulePathIT.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "--module-path", mp, "--add-modules", "ALL-MODULE-PATH", "-cp", testClasses.toString(), Main.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        Map<String, String> r = new TreeMap<>();
        out.lines().filter(l -> l.startsWith("> ")).map(l -> l.substring(2).split("=", 2)).forEach(kv -> r.put(kv[0], kv[1]));
        assertEquals("org.hope4j", r.get("module"), out);
        assertEquals("cpu", r.get("backend"), "the CPU engine found through the descriptor's provides clause: " + out);
        assertEquals(onClassPath, Double.parseDouble(r.get("bits")), 0.0, "the module scores what the class path scores");
        assertEquals("org.hope4j,org.hope4j.bundle,org.hope4j.engine,org.hope4j.sleep", r.get("exported"), out);
        assertTrue(r.get("internal").startsWith("refused"), "the levels behind the learner's lock are out of reach: " + out);
    }

    /** Runs in the child JVM: the library on the module path, this class on the class path (the unnamed module). */
    public static final class Main {
        public static void main(String[] args) {
            Module m = Hope.class.getModule();
            System.out.println("> module=" + m.getName());
            System.out.println("> exported=" + m.getPackages().stream().filter(m::isExported).sorted().collect(Collectors.joining(",")));
            try (Learner l = Hope.loadDefault()) {
                System.out.println("> backend=" + l.backendInfo().selected());
                System.out.println("> bits=" + l.score(TEXT).bitsPerByte());
                try {
                    // Streams is public, but its package is not exported: the call cannot link
                    org.hope4j.learner.Streams.of(l);
                    System.out.println("> internal=reached");
                } catch (IllegalAccessError e) {
                    System.out.println("> internal=refused: " + e.getMessage());
                }
            }
        }
    }
}
