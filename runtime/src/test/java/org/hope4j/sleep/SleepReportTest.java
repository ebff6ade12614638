package org.hope4j.sleep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SleepReportTest {
    private static final List<String> KEYS = List.of("committed", "reason", "consolidated_bytes", "seconds",
            "recent_bits_per_byte_before", "recent_bits_per_byte_after", "probe_bits_per_byte_before",
            "probe_bits_per_byte_after");

    @Test
    void committedJson() {
        SleepReport r = new SleepReport.Committed(65536, 12.5, 1.25, 1.0, 2.0, 2.125, "probe within bound");
        assertTrue(r.committed());
        assertEquals("{\"committed\":true,\"reason\":\"probe within bound\",\"consolidated_bytes\":65536,"
                + "\"seconds\":12.5,\"recent_bits_per_byte_before\":1.25,\"recent_bits_per_byte_after\":1.0,"
                + "\"probe_bits_per_byte_before\":2.0,\"probe_bits_per_byte_after\":2.125}", r.toJson());
    }

    @Test
    void rolledBackJson() {
        SleepReport r = new SleepReport.RolledBack(1024, 3.0, 1.5, 1.25, 2.0, 2.5, "probe degraded by 0.5 > 0.05");
        assertFalse(r.committed());
        JsonObject o = JsonParser.parseString(r.toJson()).getAsJsonObject();
        assertEquals(KEYS, List.copyOf(o.keySet()));
        assertFalse(o.get("committed").getAsBoolean());
        assertEquals("probe degraded by 0.5 > 0.05", o.get("reason").getAsString());
        assertEquals(1024, o.get("consolidated_bytes").getAsLong());
        assertEquals(3.0, o.get("seconds").getAsDouble());
        assertEquals(2.5, o.get("probe_bits_per_byte_after").getAsDouble());
    }

    @Test
    void preemptedJsonHasNullFigures() {
        SleepReport r = new SleepReport.Preempted("user call", 0.004);
        assertFalse(r.committed());
        assertEquals("{\"committed\":false,\"reason\":\"user call\",\"consolidated_bytes\":null,\"seconds\":0.004,"
                + "\"recent_bits_per_byte_before\":null,\"recent_bits_per_byte_after\":null,"
                + "\"probe_bits_per_byte_before\":null,\"probe_bits_per_byte_after\":null}", r.toJson());
    }

    @Test
    void unmeasuredFiguresAreNullAndReasonsAreEscaped() {
        SleepReport r = new SleepReport.RolledBack(0, 0.5, Double.NaN, Double.NaN, 1.0, Double.POSITIVE_INFINITY,
                "sleeper failed: \"x\" <y>");
        JsonObject o = JsonParser.parseString(r.toJson()).getAsJsonObject();
        assertTrue(o.get("recent_bits_per_byte_before").isJsonNull());
        assertTrue(o.get("probe_bits_per_byte_after").isJsonNull());
        assertEquals(1.0, o.get("probe_bits_per_byte_before").getAsDouble());
        assertEquals("sleeper failed: \"x\" <y>", o.get("reason").getAsString());
        assertTrue(r.toJson().contains("<y>"), "no HTML escaping");
    }

    @Test
    void reportsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new SleepReport.Committed(-1, 1, 1, 1, 1, 1, "r"));
        assertThrows(IllegalArgumentException.class, () -> new SleepReport.Committed(1, -1, 1, 1, 1, 1, "r"));
        assertThrows(IllegalArgumentException.class, () -> new SleepReport.Committed(1, Double.NaN, 1, 1, 1, 1, "r"));
        assertThrows(IllegalArgumentException.class, () -> new SleepReport.RolledBack(1, 1, -0.5, 1, 1, 1, "r"));
        assertThrows(IllegalArgumentException.class, () -> new SleepReport.RolledBack(1, 1, 1, 1, 1, 1, null));
        assertThrows(IllegalArgumentException.class, () -> new SleepReport.Preempted(null, 1));
        assertThrows(IllegalArgumentException.class, () -> new SleepReport.Preempted("r", Double.POSITIVE_INFINITY));
    }

    @Test
    void budgetDefaultsWithAndValidation() {
        SleepBudget b = SleepBudget.defaults();
        assertEquals(64 * 1024, b.maxBytes());
        assertEquals(Duration.ofSeconds(60), b.maxTime());
        assertEquals(1000, b.withMaxBytes(1000).maxBytes());
        assertEquals(Duration.ofSeconds(5), b.withMaxTime(Duration.ofSeconds(5)).maxTime());
        assertThrows(IllegalArgumentException.class, () -> b.withMaxBytes(0));
        assertThrows(IllegalArgumentException.class, () -> b.withMaxTime(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> b.withMaxTime(Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> b.withMaxTime(null));
    }

    @Test
    void eventsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new SleepEvent.Phase("dream", 1.5));
        assertThrows(IllegalArgumentException.class, () -> new SleepEvent.Phase("dream", Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new SleepEvent.Phase(null, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new SleepEvent.Started(null, "idle"));
        assertThrows(IllegalArgumentException.class, () -> new SleepEvent.Started(Instant.EPOCH, null));
        assertThrows(IllegalArgumentException.class, () -> new SleepEvent.Finished(null));
        assertThrows(IllegalArgumentException.class, () -> new SleepEvent.Skipped(null));
        assertThrows(IllegalArgumentException.class, () -> new DevicePolicy.Decision(true, null));
        assertEquals(0.5, new SleepEvent.Phase("dream", 0.5).progress());
    }

    @Test
    void schedulerOptionsDefaultsWithAndValidation() {
        SchedulerOptions o = SchedulerOptions.defaults();
        assertEquals(Duration.ofMinutes(5), o.idleAfter());
        assertEquals(Duration.ofSeconds(10), o.checkEvery());
        assertEquals(Duration.ofMinutes(30), o.minGap());
        assertEquals(SleepBudget.defaults(), o.budget());
        assertFalse(o.sleepAtLevelBoundary());
        assertTrue(o.withSleepAtLevelBoundary(true).sleepAtLevelBoundary());
        assertEquals(Duration.ZERO, o.withIdleAfter(Duration.ZERO).idleAfter());
        assertThrows(IllegalArgumentException.class, () -> o.withIdleAfter(Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> o.withCheckEvery(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> o.withMinGap(null));
        assertThrows(IllegalArgumentException.class, () -> o.withBudget(null));
        assertThrows(IllegalArgumentException.class, () -> o.withClock(null));
        assertThrows(IllegalArgumentException.class, () -> o.withTicker(null));
    }
}
