package org.hope4j.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.junit.jupiter.api.Test;

/**
 * The JMH annotation processor ran on the test sources: {@code META-INF/BenchmarkList} in
 * target/test-classes names every {@code @Benchmark} method of every class in
 * {@code org.hope4j.tests.jmh}, and nothing else. Runs no benchmark.
 */
class JmhListTest {
    private static final String PACKAGE = "org.hope4j.tests.jmh";

    @Test
    void benchmarkListNamesEveryBenchmark() throws Exception {
        Set<String> declared = declaredBenchmarks();
        assertTrue(declared.containsAll(List.of(PACKAGE + ".EngineBench.memoryLearn", PACKAGE + ".EngineBench.memoryRead",
                PACKAGE + ".EngineBench.cms", PACKAGE + ".EngineBench.head", PACKAGE + ".EngineBench.accumulate", PACKAGE + ".EngineBench.step",
                PACKAGE + ".SgemmBench.sgemm", PACKAGE + ".ElementwiseBench.sigmoidSilu", PACKAGE + ".LearnerBench.observe", PACKAGE + ".LearnerBench.score")),
                "expected the engine, sgemm and learner benchmarks in " + PACKAGE + ", found " + declared);

        URL list = JmhListTest.class.getResource(BenchmarkList.BENCHMARK_LIST);
        assertNotNull(list, BenchmarkList.BENCHMARK_LIST + " is missing from the test class path: the JMH annotation processor did not run"
                + " (tests/pom.xml, maven-compiler-plugin default-testCompile annotationProcessorPaths)");
        List<BenchmarkListEntry> entries;
        try (InputStream in = list.openStream()) {
            entries = BenchmarkList.readBenchmarkList(in);
        }
        Set<String> listed = entries.stream().map(BenchmarkListEntry::getUsername).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(declared, listed, BenchmarkList.BENCHMARK_LIST + " (" + list + ") does not match the @Benchmark methods of " + PACKAGE);
    }

    /** Every {@code Class.method} annotated {@code @Benchmark} among the compiled classes of the package (not JMH's generated ones). */
    private static Set<String> declaredBenchmarks() throws IOException, URISyntaxException, ClassNotFoundException {
        URL dir = JmhListTest.class.getResource("/" + PACKAGE.replace('.', '/'));
        assertNotNull(dir, PACKAGE + " is not on the test class path");
        assertEquals("file", dir.getProtocol(), "expected " + PACKAGE + " compiled into a directory, found " + dir);
        Set<String> names = new TreeSet<>();
        List<Path> classes;
        try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
            classes = files.filter(p -> p.getFileName().toString().endsWith(".class")).toList();
        }
        assertFalse(classes.isEmpty(), "no classes in " + dir);
        for (Path p : classes) {
            String simple = p.getFileName().toString().replaceFirst("\\.class$", "");
            Class<?> c = Class.forName(PACKAGE + "." + simple, false, JmhListTest.class.getClassLoader());
            for (Method m : c.getDeclaredMethods()) {
                if (m.isAnnotationPresent(Benchmark.class)) {
                    names.add(c.getName() + "." + m.getName());
                }
            }
        }
        return names;
    }
}
