package org.hope4j.device.serve;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.hope4j.Level;
import org.hope4j.Score;
import org.hope4j.sleep.SleepReport;

/**
 * The service's Prometheus metrics (Micrometer): requests and their latencies per endpoint and status,
 * bytes learned, the moving average of bits/byte and the level update counts per profile, sleeps per
 * profile and outcome, open profiles. {@link #scrape()} is the text {@code GET /metrics} returns.
 */
public final class ServeMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicLong openProfiles = new AtomicLong();
    private final Map<String, double[]> bits = new ConcurrentHashMap<>();
    private final Map<String, long[]> updates = new ConcurrentHashMap<>();

    public ServeMetrics() {
        Gauge.builder("hope4j_open_profiles", openProfiles, AtomicLong::get).description("learners open in memory").register(registry);
    }

    void request(String endpoint, int status, long nanos) {
        Timer.builder("hope4j_request").tag("endpoint", endpoint).tag("status", Integer.toString(status))
                .publishPercentiles(0.5, 0.99).register(registry).record(Duration.ofNanos(nanos));
    }

    void opened(int n) {
        openProfiles.set(n);
    }

    void learned(String profile, Score s, double recentBitsPerByte, Map<Level, Long> counts) {
        Counter.builder("hope4j_bytes_learned").tag("profile", profile).description("bytes observed").register(registry).increment(s.bytes());
        double[] b = bits.computeIfAbsent(profile, p -> {
            double[] cell = {Double.NaN};
            Gauge.builder("hope4j_bits_per_byte", cell, c -> c[0]).tag("profile", profile)
                    .description("moving average of the prequential bits/byte of observe").register(registry);
            return cell;
        });
        b[0] = recentBitsPerByte;
        long[] u = updates.computeIfAbsent(profile, p -> {
            long[] cell = new long[3];
            for (int i = 0; i < 3; i++) {
                int k = i;
                Gauge.builder("hope4j_level_updates", cell, c -> c[k]).tag("profile", profile).tag("level", "L" + i)
                        .description("update steps of the level since the learner's stream began").register(registry);
            }
            return cell;
        });
        u[0] = counts.getOrDefault(Level.L0, 0L);
        u[1] = counts.getOrDefault(Level.L1, 0L);
        u[2] = counts.getOrDefault(Level.L2, 0L);
    }

    void sleep(String profile, SleepReport r) {
        String outcome = r instanceof SleepReport.Committed ? "committed" : r instanceof SleepReport.RolledBack ? "rolled_back" : "preempted";
        Counter.builder("hope4j_sleeps").tag("profile", profile).tag("outcome", outcome).register(registry).increment();
    }

    /** Drops a deleted profile's series. */
    void forget(String profile) {
        bits.remove(profile);
        updates.remove(profile);
        for (Meter m : registry.getMeters()) {
            if (profile.equals(m.getId().getTag("profile"))) {
                registry.remove(m);
            }
        }
    }

    public String scrape() {
        return registry.scrape();
    }
}
