package org.hope4j.engine.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which GPUs a build's kernels run on (issue 16, defect 1): decided before the first launch. */
class KernelImagesTest {
    /** The architectures of the build before issue 16: SASS 87 89 90 (72 dropped by CUDA 13) and PTX of the newest. */
    private static final KernelImages BEFORE = KernelImages.parse("87 89 90;90");
    /** The build now: SASS for Turing to Hopper and PTX of the oldest. */
    private static final KernelImages NOW = KernelImages.parse("75 80 86 87 89 90;75");

    @Test
    void theOldBuildHadNoImageForTheGpusUsersHave() {
        for (int cc : new int[] {75, 80, 86}) { // T4, A100, A10 / RTX 30xx
            assertNull(BEFORE.imageFor(cc), "sm_" + cc);
        }
        assertEquals("sm_89 SASS", BEFORE.imageFor(89));
    }

    @Test
    void theBuildRunsFromTuringToBlackwell() {
        assertEquals("sm_75 SASS", NOW.imageFor(75));
        assertEquals("sm_80 SASS", NOW.imageFor(80));
        assertEquals("sm_86 SASS", NOW.imageFor(86));
        assertEquals("sm_87 SASS", NOW.imageFor(87));
        assertEquals("sm_87 SASS", NOW.imageFor(88), "a newer minor of the same major runs the newest older SASS");
        assertEquals("sm_80 SASS", KernelImages.parse("80;80").imageFor(86));
        assertEquals("sm_90 SASS", NOW.imageFor(90));
        assertTrue(NOW.imageFor(100).startsWith("PTX compute_75"), NOW.imageFor(100));
        assertTrue(NOW.imageFor(120).startsWith("PTX compute_75"), NOW.imageFor(120));
    }

    @Test
    void olderGpusThanThePtxHaveNoImage() {
        assertNull(NOW.imageFor(72), "Jetson Xavier needs a JetPack 5 build");
        assertNull(NOW.imageFor(61));
        assertNull(KernelImages.parse("75 80;").imageFor(90), "no PTX: only the SASS majors run");
        assertEquals("SASS sm_75 sm_80 sm_86 sm_87 sm_89 sm_90 and PTX compute_75", NOW.toString());
    }

    @Test
    void aMalformedListIsAnErrorNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelImages.parse("75 80 86"));
        assertTrue(e.getMessage().contains("SASS;PTX"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> KernelImages.parse("75 sm80;75"));
        assertTrue(e.getMessage().contains("sm80"), e.getMessage());
    }

    @Test
    void theLibraryReportsWhatItWasBuiltFor() {
        CudaNative.load();
        KernelImages built = KernelImages.parse(CudaNative.cudaBuiltArchitectures());
        assertEquals("sm_75 SASS", built.imageFor(75), built.toString());
        assertTrue(built.imageFor(120) != null, built.toString());
    }
}
