package org.hope4j.device;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.hope4j.Learner;
import org.hope4j.Score;
import org.hope4j.learner.Streams;
import org.hope4j.level.EpisodicLevel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Fits the episodic level's prior (the mixer's initial weights and the match model's confidences)
 * for a bundle: the learner observes training text with every level learning, starting from the
 * neutral prior, and what the mixer learned becomes the bundle's {@code episodic.json}.
 */
@Command(name = "fit-episodic", mixinStandardHelpOptions = true,
        description = "Fit the episodic level's prior on training text and write it as a bundle's episodic.json.")
final class FitEpisodic implements Callable<Integer> {
    private static final System.Logger LOG = System.getLogger(FitEpisodic.class.getName());

    @CommandLine.Mixin
    Main.Common common = new Main.Common();

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "where to write the prior (JSON)")
    Path out;

    @Option(names = "--source", defaultValue = "", description = "what the text is, recorded in the file")
    String source;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "training text, read in order")
    List<Path> files;

    @Override
    public Integer call() throws IOException {
        try (Learner l = common.open()) {
            EpisodicLevel e = Streams.of(l).episodic();
            if (e == null) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--no-episodic: there is no episodic level to fit");
            }
            e.reset();
            long bytes = 0;
            for (Path f : files) {
                byte[] data = Files.readAllBytes(f);
                Score s = l.observe(data);
                bytes += data.length;
                LOG.log(System.Logger.Level.INFO, "fit-episodic: {0}: {1} bytes at {2} bits/byte", f, data.length, String.format("%.4f", s.bitsPerByte()));
            }
            String what = (source.isBlank() ? String.join(", ", files.stream().map(p -> p.getFileName().toString()).toList()) : source)
                    + " (" + bytes + " bytes, starting from the bundle's prior, neutral when it has none)";
            Files.writeString(out, e.learned().toJson(what), StandardCharsets.UTF_8);
            System.out.println("{\"bytes\": " + bytes + ", \"out\": \"" + out + "\"}");
        }
        return 0;
    }
}
