package org.hope4j.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hope4j.BackendUnavailableException;
import org.junit.jupiter.api.Test;

class BackendsTest {
    @Test
    void autoWithEveryBackendUnavailableSaysWhyForEach() {
        // the test classpath also registers the "recording" and "mixing" backends (RecordingBackend, MixingBackend)
        System.setProperty("hope4j.backend.cpu.disabled", "true");
        System.setProperty("hope4j.backend.recording.disabled", "true");
        System.setProperty("hope4j.backend.mixing.disabled", "true");
        try {
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.select("auto"));
            assertTrue(e.getMessage().startsWith("backend 'auto' is unavailable: every backend failed: "), e.getMessage());
            assertTrue(e.getMessage().contains("cpu unavailable: disabled by -Dhope4j.backend.cpu.disabled=true"), e.getMessage());
            assertTrue(e.getMessage().contains("recording unavailable: disabled"), e.getMessage());
            assertTrue(e.getMessage().contains("mixing unavailable: disabled"), e.getMessage());
            assertNotNull(e.getCause(), "the first backend's failure is the cause");
        } finally {
            System.clearProperty("hope4j.backend.cpu.disabled");
            System.clearProperty("hope4j.backend.recording.disabled");
            System.clearProperty("hope4j.backend.mixing.disabled");
        }
        assertEquals("cpu", Backends.select("auto").backend().name());
    }
}
