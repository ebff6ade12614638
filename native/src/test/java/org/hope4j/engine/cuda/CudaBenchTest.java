package org.hope4j.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Learning throughput of the CUDA engine against the CPU engine, written as JSON to
 * {@code hope4j.bench.out} (native/target/cuda-bench.json). No timing assertion: the numbers are the
 * result. Runs only with {@code -Dhope4j.test.cuda=1} (fails if CUDA is absent).
 */
@EnabledIfSystemProperty(named = "hope4j.test.cuda", matches = "1")
class CudaBenchTest {
    @Test
    void writesTheThroughputOfBothEngines() throws Exception {
        Path out = Path.of(System.getProperty("hope4j.bench.out", "target/cuda-bench.json"));
        CudaBench.main(new String[] {out.toString(), "8"});
        String json = Files.readString(out);
        assertTrue(json.contains("\"engine_speedup\""), json);
        assertTrue(json.contains("\"cuda\""), json);
    }
}
