package org.hope4j.sleep;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

/** Validation and JSON form shared by the {@link SleepReport} records. */
final class ReportJson {
    private static final Gson GSON = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();

    private ReportJson() {}

    static void validate(long bytes, double seconds, String reason, double... bitsPerByte) {
        if (bytes < 0) {
            throw new IllegalArgumentException("consolidatedBytes must be >= 0, found " + bytes);
        }
        if (!(seconds >= 0) || Double.isInfinite(seconds)) {
            throw new IllegalArgumentException("seconds must be finite and >= 0, found " + seconds);
        }
        if (reason == null) {
            throw new IllegalArgumentException("reason must not be null");
        }
        for (double b : bitsPerByte) {
            if (b < 0) {
                throw new IllegalArgumentException("bits/byte must be >= 0 or NaN (not measured), found " + b);
            }
        }
    }

    static String toJson(SleepReport report) {
        JsonObject o = new JsonObject();
        o.addProperty("committed", report.committed());
        o.addProperty("reason", report.reason());
        if (report instanceof SleepReport.Committed c) {
            figures(o, c.consolidatedBytes(), c.seconds(), c.recentBitsPerByteBefore(), c.recentBitsPerByteAfter(),
                    c.probeBitsPerByteBefore(), c.probeBitsPerByteAfter());
        } else if (report instanceof SleepReport.RolledBack r) {
            figures(o, r.consolidatedBytes(), r.seconds(), r.recentBitsPerByteBefore(), r.recentBitsPerByteAfter(),
                    r.probeBitsPerByteBefore(), r.probeBitsPerByteAfter());
        } else {
            o.add("consolidated_bytes", JsonNull.INSTANCE);
            o.add("seconds", number(report.seconds()));
            o.add("recent_bits_per_byte_before", JsonNull.INSTANCE);
            o.add("recent_bits_per_byte_after", JsonNull.INSTANCE);
            o.add("probe_bits_per_byte_before", JsonNull.INSTANCE);
            o.add("probe_bits_per_byte_after", JsonNull.INSTANCE);
        }
        return GSON.toJson(o);
    }

    private static void figures(JsonObject o, long bytes, double seconds, double recentBefore, double recentAfter,
            double probeBefore, double probeAfter) {
        o.addProperty("consolidated_bytes", bytes);
        o.add("seconds", number(seconds));
        o.add("recent_bits_per_byte_before", number(recentBefore));
        o.add("recent_bits_per_byte_after", number(recentAfter));
        o.add("probe_bits_per_byte_before", number(probeBefore));
        o.add("probe_bits_per_byte_after", number(probeAfter));
    }

    private static com.google.gson.JsonElement number(double v) {
        return Double.isFinite(v) ? new JsonPrimitive(v) : JsonNull.INSTANCE;
    }
}
