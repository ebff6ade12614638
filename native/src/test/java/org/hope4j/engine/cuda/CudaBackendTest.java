package org.hope4j.engine.cuda;

import org.hope4j.BackendException;
import org.hope4j.BackendUnavailableException;
import org.hope4j.Learner;
import org.hope4j.engine.Backends;
import org.hope4j.engine.EngineSpec;
import org.hope4j.learner.Streams;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CUDA backend on any machine. Without a GPU (CI): the library loads, the probe keeps the CUDA
 * error as its reason, "auto" falls back to the CPU (which then passes the golden parity), and an
 * explicit request fails loudly with that reason. With a GPU the same tests check the other branch;
 * with {@code -Dhope4j.test.cuda=1} a missing GPU is a failure.
 */
class CudaBackendTest {
    static final boolean CUDA_REQUIRED = "1".equals(System.getProperty("hope4j.test.cuda"));

    /** The probe's reason, or null when a device is usable; fails when the GPU is required and absent. */
    static String unavailableReason() {
        try {
            new CudaBackendProvider().probe();
            return null;
        } catch (BackendUnavailableException e) {
            if (CUDA_REQUIRED) {
                fail("-Dhope4j.test.cuda=1 but the CUDA backend is unavailable: " + e.getMessage(), e);
            }
            return e.getMessage();
        }
    }

    @Test
    void theLibraryLoadsWithTheStaticRuntime() {
        CudaNative.load();
        String built = CudaBackendProvider.builtRuntime();
        assertTrue(built.matches("\\d+\\.\\d+"), built);
        assertTrue(Integer.parseInt(built.split("\\.")[0]) >= 11, "built with CUDA runtime " + built);
    }

    @Test
    void theProbeNamesTheCudaErrorOrTheDevice() {
        String reason = unavailableReason();
        CudaBackendProvider p = new CudaBackendProvider();
        if (reason != null) {
            // e.g. "no usable CUDA device: cudaGetDeviceCount: cudaErrorInsufficientDriver (35): CUDA driver version is insufficient ..."
            assertTrue(reason.contains("cudaGetDeviceCount") || reason.contains("no CUDA device"), reason);
            assertTrue(reason.matches(".*cudaError\\w+ \\(\\d+\\).*") || reason.contains("found 0"), reason);
            if (reason.contains("(35)")) { // defect 2: the reason names the driver the static runtime needs
                assertTrue(reason.contains("needs an NVIDIA driver"), reason);
            }
            // the reason is kept: a second probe says the same
            BackendUnavailableException again = assertThrows(BackendUnavailableException.class, p::probe);
            assertEquals(reason, again.getMessage());
            assertEquals("cuda", p.describe());
        } else {
            assertTrue(p.describe().contains("sm_"), p.describe());
            assertTrue(p.describe().contains("kernels: "), p.describe());
        }
    }

    @Test
    void autoPrefersCudaAndFallsBackToCpuWithTheReason() {
        String reason = unavailableReason();
        Backends.Selection sel = Backends.select("auto");
        String cuda = sel.info().status().get("cuda");
        if (reason != null) {
            assertEquals("cpu", sel.backend().name());
            assertEquals("unavailable: " + reason, cuda);
            assertEquals("selected", sel.info().status().get("cpu"));
        } else {
            assertEquals("cuda", sel.backend().name());
            assertEquals("selected", cuda);
        }
    }

    @Test
    void anExplicitRequestForCudaFailsLoudly() {
        String reason = unavailableReason();
        if (reason != null) {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.select("cuda"));
            assertTrue(e.getMessage().contains(reason), e.getMessage());
            assertTrue(e.getCause() != null, "the reason's throwable is kept as the cause");
        } else {
            assertEquals("cuda", Backends.select("cuda").backend().name());
        }
    }

    @Test
    void theKillSwitchTurnsCudaOff() {
        System.setProperty("hope4j.backend.cuda.disabled", "true");
        try {
            Backends.Selection sel = Backends.select("auto");
            assertEquals("cpu", sel.backend().name());
            assertTrue(sel.info().status().get("cuda").startsWith("unavailable: disabled"), sel.info().status().toString());
        } finally {
            System.clearProperty("hope4j.backend.cuda.disabled");
        }
    }

    @Test
    void withoutADeviceAnEngineFailsWithABackendExceptionNotACrash() {
        assumeTrue(unavailableReason() != null, "a CUDA device is here: CudaEngineTest covers the engine on it");
        try (Learner l = org.hope4j.Hope.open(Golden.BUNDLE, org.hope4j.LearnerOptions.defaults().withBackend("cpu"))) {
            EngineSpec spec = Streams.of(l).engine().spec();
            BackendException e = assertThrows(BackendException.class, () -> new CudaEngine(spec, Golden.BUNDLE.plastic(), 0));
            assertTrue(e.getMessage().contains("cudaSetDevice(0)"), e.getMessage());
            assertTrue(e.getMessage().contains(spec.toString()), e.getMessage());
        }
    }

    @Test
    void anEngineThatCannotOpenLeaksNoStagingMemory() {
        try (Learner l = org.hope4j.Hope.open(Golden.BUNDLE, org.hope4j.LearnerOptions.defaults().withBackend("cpu"))) {
            EngineSpec spec = Streams.of(l).engine().spec();
            long before = org.bytedeco.javacpp.Pointer.totalBytes();
            for (int i = 0; i < 3; i++) { // device 99 exists nowhere: the GPU engine fails after the staging buffers were made
                BackendException e = assertThrows(BackendException.class, () -> new CudaEngine(spec, Golden.BUNDLE.plastic(), 99));
                assertTrue(e.getMessage().contains("device 99"), e.getMessage());
            }
            assertEquals(before, org.bytedeco.javacpp.Pointer.totalBytes(), "staging buffers of failed engines were freed");
        }
    }

    @Test
    void theLearnerFallsBackAndPassesTheGoldenParity() {
        String reason = unavailableReason();
        String used = Golden.check("auto", "learn_on", 1);
        assertEquals(reason == null ? "cuda" : "cpu", used);
        assertFalse(used.isEmpty());
    }
}
