package org.hope4j.tests.jmh;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/** Prints a short table of a JMH JSON result file (run-jmh.sh calls it after the run). */
public final class JmhTable {
    private JmhTable() {
    }

    public static void main(String[] args) throws IOException {
        JsonArray runs = JsonParser.parseString(Files.readString(Path.of(args[0]))).getAsJsonArray();
        System.out.printf(Locale.ROOT, "%-26s %-36s %14s %12s  %s%n", "benchmark", "params", "score", "error", "unit");
        for (JsonElement e : runs) {
            JsonObject r = e.getAsJsonObject();
            String name = r.get("benchmark").getAsString().replaceFirst("^org\\.hope4j\\.tests\\.jmh\\.", "");
            StringBuilder params = new StringBuilder();
            if (r.has("params")) {
                for (Map.Entry<String, JsonElement> p : r.getAsJsonObject("params").entrySet()) {
                    params.append(params.length() == 0 ? "" : " ").append(p.getKey()).append('=').append(p.getValue().getAsString());
                }
            }
            JsonObject pm = r.getAsJsonObject("primaryMetric");
            JsonElement err = pm.get("scoreError");
            String error = err == null || !err.isJsonPrimitive() || !err.getAsJsonPrimitive().isNumber() || Double.isNaN(err.getAsDouble())
                    ? "" : String.format(Locale.ROOT, "± %.3f", err.getAsDouble());
            System.out.printf(Locale.ROOT, "%-26s %-36s %14.3f %12s  %s%n", name, params, pm.get("score").getAsDouble(), error,
                    pm.get("scoreUnit").getAsString());
        }
    }
}
