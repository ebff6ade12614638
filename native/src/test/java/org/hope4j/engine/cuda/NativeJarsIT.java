package org.hope4j.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The packaged artifacts: the plain jar holds the Java classes and no native code, the platform jar (classifier
 * {@code javacpp.platform}) holds the JNI library for that platform and nothing else.
 */
class NativeJarsIT {
    private static final String LIB = "libjnihope4jcuda.so";

    private static List<String> entries(Path jar) throws IOException {
        assertTrue(Files.isRegularFile(jar), jar + " was not packaged");
        try (JarFile j = new JarFile(jar.toFile())) {
            return j.stream().map(e -> e.getName()).filter(n -> !n.endsWith("/")).collect(Collectors.toList());
        }
    }

    @Test
    void classesAndNativesShipInSeparateJars() throws IOException {
        Path dir = Path.of(System.getProperty("hope4j.native.jars"));
        String version = System.getProperty("hope4j.native.version");
        String platform = System.getProperty("javacpp.platform");
        List<String> plain = entries(dir.resolve("hope4j-native-" + version + ".jar"));
        assertTrue(plain.contains("org/hope4j/engine/cuda/CudaBackendProvider.class"), "classes in the plain jar: " + plain);
        assertTrue(plain.contains("META-INF/services/org.hope4j.engine.Backend"), "the backend registration in the plain jar");
        assertTrue(plain.stream().noneMatch(n -> n.endsWith(".so")), "no native library in the plain jar: " + plain);

        List<String> natives = entries(dir.resolve("hope4j-native-" + version + "-" + platform + ".jar"));
        List<String> code = natives.stream().filter(n -> !n.startsWith("META-INF/")).collect(Collectors.toList());
        assertEquals(List.of("org/hope4j/engine/cuda/" + platform + "/" + LIB), code, "only " + platform + "'s JNI library in the platform jar");
    }
}
