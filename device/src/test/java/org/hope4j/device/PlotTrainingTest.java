package org.hope4j.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hope4j plot-training}: the learning curve of a history.json as a PNG. */
class PlotTrainingTest {
    @TempDir
    Path tmp;

    @Test
    void plotsTheEvaluatedRowsAndRefusesAFileWithout() throws Exception {
        Path h = tmp.resolve("history.json");
        Files.writeString(h, "{\"prior\": [], \"history\": ["
                + "{\"step\": 100, \"bytes\": 1000000, \"compute_s\": 60, \"heldout_bits_per_byte\": 2.5,"
                + " \"heldout_format_bits_per_byte\": {\"email\": 2.2, \"go\": 2.9}},"
                + "{\"step\": 150, \"bytes\": 1500000, \"compute_s\": 90},"
                + "{\"step\": 200, \"bytes\": 2000000, \"compute_s\": 120, \"heldout_bits_per_byte\": 2.1,"
                + " \"heldout_format_bits_per_byte\": {\"email\": 1.9, \"go\": 2.4}}]}");
        List<PlotTraining.Point> pts = PlotTraining.read(h);
        assertEquals(2, pts.size(), "the row without an evaluation is skipped");
        assertEquals(2.0, pts.get(1).megabytes(), 1e-12);
        assertEquals(2.4, pts.get(1).formats().get("go"), 1e-12);
        Path png = tmp.resolve("plots/curve.png");
        assertEquals(0, Main.commandLine().execute("plot-training", "--history", h.toString(), "--out", png.toString()));
        byte[] b = Files.readAllBytes(png);
        assertTrue(b.length > 1000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', "a PNG of " + b.length + " bytes");

        Path empty = tmp.resolve("empty.json");
        Files.writeString(empty, "{\"history\": [{\"step\": 1, \"bytes\": 10}]}");
        IOException e = assertThrows(IOException.class, () -> PlotTraining.read(empty));
        assertTrue(e.getMessage().contains("empty.json") && e.getMessage().contains("heldout_bits_per_byte"), e.getMessage());
        Files.writeString(empty, "[1, 2]");
        assertTrue(assertThrows(IOException.class, () -> PlotTraining.read(empty)).getMessage().contains("empty.json"));
    }
}
