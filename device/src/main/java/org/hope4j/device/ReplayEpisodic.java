package org.hope4j.device;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.hope4j.Learner;
import org.hope4j.learner.HopeStream;
import org.hope4j.learner.Streams;
import org.hope4j.level.EpisodicLevel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Replays the episodic level E over neural distributions recorded by {@code observe --dump-neural} or {@code score
 * --dump-neural}: E's bits/byte of the recorded stream without running the neural levels (E alone reads ~100 k bytes/s,
 * the learner ~7 k), so a change of E is measured on real text in seconds. A dump is, per byte read, the byte, a flag
 * (1: a distribution follows, 0: the stream's first byte, which nothing predicted) and the 256 probabilities as
 * big-endian floats (1,026 bytes a byte). The floats round the neural probabilities, so a replay reproduces the
 * learner's figure to about 1e-4 bits/byte, not bit for bit.
 */
@Command(name = "replay-episodic", mixinStandardHelpOptions = true,
        description = "Replay the episodic level over neural distributions recorded with --dump-neural: bits/byte per dump, in order, through one level.")
final class ReplayEpisodic implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    Main.Common common = new Main.Common();

    @Option(names = "--state", paramLabel = "DIR", description = "start from the episodic level of this saved state (default: a fresh level with the bundle's prior)")
    Path state;

    @Option(names = "--fresh", description = "reset the level before each dump (default: one level reads the dumps in order)")
    boolean fresh;

    @Parameters(arity = "1..*", paramLabel = "DUMP", description = "files written by observe/score --dump-neural")
    List<Path> dumps;

    @Override
    public Integer call() throws IOException {
        if (common.noEpisodic) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--no-episodic: there is no episodic level to replay");
        }
        for (Path d : dumps) {
            Main.checkFile(spec, d);
        }
        Main.checkSavedState(spec, state);
        List<String> rows = new ArrayList<>();
        try (Learner l = common.open(state)) {
            EpisodicLevel e = Streams.of(l).episodic();
            double[] p = new double[256];
            for (Path d : dumps) {
                if (fresh) {
                    e.reset();
                }
                double bits = 0;
                long scored = 0;
                long bytes = 0;
                try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(d), 1 << 20))) {
                    int b;
                    while ((b = in.read()) >= 0) {
                        int flag = in.read();
                        if (flag == 0) {
                            e.code(null, 0, b);
                        } else if (flag == 1) {
                            for (int j = 0; j < 256; j++) {
                                p[j] = in.readFloat();
                            }
                            bits += e.codeProbabilities(p, b);
                            scored++;
                        } else {
                            throw new CommandLine.ParameterException(spec.commandLine(), d + ": not a --dump-neural file (byte record " + bytes + " has flag " + flag + ")");
                        }
                        bytes++;
                    }
                } catch (EOFException eof) {
                    throw new CommandLine.ParameterException(spec.commandLine(), d + ": truncated --dump-neural file (record " + bytes + " is cut)");
                }
                rows.add(String.format(Locale.ROOT, "{\"dump\": \"%s\", \"bytes\": %d, \"bits_per_byte\": %s}", d.getFileName(), bytes,
                        Main.num(scored == 0 ? Double.NaN : bits / scored)));
            }
        }
        rows.forEach(System.out::println);
        return 0;
    }

    /** The {@code --dump-neural FILE} option of {@code score} and {@code observe}. */
    static final class DumpOption {
        @Option(names = "--dump-neural", paramLabel = "FILE", description = "also write, for every byte, the neural distribution E mixes"
                + " (1,026 bytes a byte), for replay-episodic")
        Path file;

        /** A writer of {@code file} set as {@code l}'s neural sink, or null when the option is absent. */
        Writer attach(Learner l) throws IOException {
            if (file == null) {
                return null;
            }
            Writer w = new Writer(file);
            Streams.of(l).setNeuralSink(w);
            return w;
        }
    }

    /** Writes what {@link HopeStream.NeuralSink} receives in the format {@link ReplayEpisodic} reads. */
    static final class Writer implements HopeStream.NeuralSink, AutoCloseable {
        private final DataOutputStream out;

        Writer(Path file) throws IOException {
            out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 20));
        }

        @Override
        public void accept(long position, int b, double[] probs) {
            try {
                out.writeByte(b);
                out.writeByte(probs == null ? 0 : 1);
                if (probs != null) {
                    for (int j = 0; j < 256; j++) {
                        out.writeFloat((float) probs[j]);
                    }
                }
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }
}
