package org.hope4j.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CUDA engine against the reference's golden vectors (the default bundle's golden/ folder, the
 * same runs as runtime's ParityTest): logits max relative error 1e-4, weights after the stream 1e-3.
 * Runs only with {@code -Dhope4j.test.cuda=1}, and then fails (never skips) if CUDA is absent: the
 * learner is opened with an explicit request for "cuda", which throws when it cannot be met.
 */
@EnabledIfSystemProperty(named = "hope4j.test.cuda", matches = "1")
class CudaParityTest {

    @ParameterizedTest
    @CsvSource({"learn_on, 0", "learn_on, 1", "learn_on, 2", "learn_off, 0", "learn_l0, 3"})
    void logitsAndStateMatchTheReference(String run, long seed) {
        assertEquals("cuda", Golden.check("cuda", run, seed));
    }
}
