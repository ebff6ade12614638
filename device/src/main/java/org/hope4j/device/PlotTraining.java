package org.hope4j.device;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The pre-training learning curve: held-out bits/byte (mixed, and per format) against the bytes the
 * model has seen, from a {@code history.json} of {@code hope_export.train} (its {@code history} rows;
 * {@code prior} runs count their bytes), as a PNG and a one-line summary with the total compute.
 */
@Command(name = "plot-training", mixinStandardHelpOptions = true,
        description = "Plot the pre-training learning curve of a history.json (hope_export.train) as a PNG.")
final class PlotTraining implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;
    @Option(names = "--history", required = true, paramLabel = "FILE", description = "history.json written by hope_export.train")
    Path history;
    @Option(names = "--out", required = true, paramLabel = "PNG", description = "where to write the plot")
    Path out;

    /** One evaluated step: bytes seen, mixed held-out, and held-out per format. */
    record Point(long step, double megabytes, double heldout, Map<String, Double> formats) {
    }

    /** The evaluated rows of a history file, and the compute (seconds) of its last row (NaN if absent). */
    record History(List<Point> points, double computeSeconds) {
    }

    /** The evaluated rows of a history file; errors name the file and the field. */
    static List<Point> read(Path file) throws IOException {
        return readHistory(file).points();
    }

    static History readHistory(Path file) throws IOException {
        JsonObject root;
        try {
            root = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new IOException(file + ": not a history.json object: " + e.getMessage(), e);
        }
        if (!root.has("history") || !root.get("history").isJsonArray()) {
            throw new IOException(file + ": field history (an array of rows) is missing");
        }
        List<Point> pts = new ArrayList<>();
        JsonArray rows = root.getAsJsonArray("history");
        for (int i = 0; i < rows.size(); i++) {
            JsonObject r = rows.get(i).getAsJsonObject();
            if (!r.has("heldout_bits_per_byte") || r.get("heldout_bits_per_byte").isJsonNull()) {
                continue; // a row without an evaluation
            }
            if (!r.has("bytes") || !r.has("step")) {
                throw new IOException(file + ": history[" + i + "] has no bytes or step");
            }
            Map<String, Double> formats = new LinkedHashMap<>();
            if (r.has("heldout_format_bits_per_byte") && r.get("heldout_format_bits_per_byte").isJsonObject()) {
                for (Map.Entry<String, JsonElement> f : r.getAsJsonObject("heldout_format_bits_per_byte").entrySet()) {
                    formats.put(f.getKey(), f.getValue().getAsDouble());
                }
            }
            pts.add(new Point(r.get("step").getAsLong(), r.get("bytes").getAsLong() / 1e6, r.get("heldout_bits_per_byte").getAsDouble(), formats));
        }
        if (pts.isEmpty()) {
            throw new IOException(file + ": no history row has heldout_bits_per_byte");
        }
        JsonObject last = rows.get(rows.size() - 1).getAsJsonObject();
        return new History(pts, last.has("compute_s") ? last.get("compute_s").getAsDouble() : Double.NaN);
    }

    @Override
    public Integer call() throws IOException {
        if (!Files.isRegularFile(history)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--history: " + history + " is not a file");
        }
        History h = readHistory(history);
        List<Point> pts = h.points();
        double compute = h.computeSeconds();
        XYChart chart = new XYChartBuilder().width(900).height(500).title("Hope4J pre-training: held-out bits/byte")
                .xAxisTitle("MB of training text seen").yAxisTitle("bits/byte (learning on)").build();
        double[] xs = pts.stream().mapToDouble(Point::megabytes).toArray();
        chart.addSeries("held-out, mixed", xs, pts.stream().mapToDouble(Point::heldout).toArray());
        for (String f : pts.get(pts.size() - 1).formats().keySet()) {
            List<Point> have = pts.stream().filter(p -> p.formats().containsKey(f)).toList();
            if (have.size() >= 2) {
                chart.addSeries(f, have.stream().mapToDouble(Point::megabytes).toArray(),
                        have.stream().mapToDouble(p -> p.formats().get(f)).toArray());
            }
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        BitmapEncoder.saveBitmap(chart, out.toString(), BitmapEncoder.BitmapFormat.PNG);
        Point first = pts.get(0);
        Point end = pts.get(pts.size() - 1);
        System.out.printf(Locale.ROOT, "{\"points\": %d, \"first_step\": %d, \"last_step\": %d, \"megabytes_seen\": %.2f,"
                + " \"compute_hours\": %.2f, \"heldout_first\": %.4f, \"heldout_last\": %.4f, \"out\": \"%s\"}%n", pts.size(), first.step(),
                end.step(), end.megabytes(), compute / 3600, first.heldout(), end.heldout(), out);
        return 0;
    }
}
