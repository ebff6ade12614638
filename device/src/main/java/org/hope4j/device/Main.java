package org.hope4j.device;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.LearnerOptions;
import org.hope4j.Sampling;
import org.hope4j.Score;
import org.hope4j.StateKey;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The {@code hope4j} program: score, observe, generate and demo on a Hope4J bundle. */
@Command(name = "hope4j", mixinStandardHelpOptions = true, version = "hope4j 0.1.0",
        description = "An on-device continual learner: a small Hope language model that keeps learning from your text.")
public final class Main implements Runnable {
    /**
     * The subcommands, in the order the usage lists them. {@link #commandLine(String...)} builds only the one a command line
     * names: picocli reads each command's options by reflection, which loads the classes of every field (the service's Jetty,
     * the charts), and building all fourteen took 210-300 ms of CPU time, a fifth of a short command's start.
     */
    static final java.util.List<Class<?>> SUBCOMMANDS = java.util.List.of(ScoreCmd.class, ObserveCmd.class, GenerateCmd.class, KeygenCmd.class,
            Sleep.class, Demo.class, Info.class, Continual.class, Bench.class, FitEpisodic.class, ReplayEpisodic.class, RealText.class,
            PlotTraining.class, Serve.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        int code;
        try {
            code = commandLine(args).execute(args);
        } catch (OutOfMemoryError e) {
            // one line, not a stack trace: the heap is the user's to size (a save is atomic, so what was saved before is intact)
            System.err.println("hope4j: out of memory (" + e.getMessage() + ") with a Java heap of at most " + (Runtime.getRuntime().maxMemory() >> 20)
                    + " MB; run java with a larger -Xmx (what was saved before is intact)");
            code = 3;
        }
        System.exit(code);
    }

    /**
     * The configured command line with every subcommand (errors become one "hope4j: ..." line and exit code 1).
     *
     * @return the command line of {@code hope4j}
     */
    public static CommandLine commandLine() {
        return commandLine(SUBCOMMANDS);
    }

    /**
     * The command line {@code args} needs: when its first argument names a subcommand, only that one is built (its
     * usage, options and errors are the same as in {@link #commandLine()}); otherwise (no arguments, {@code --help},
     * {@code --version}, a misspelt name that picocli answers with suggestions) all of them.
     *
     * @param args the program's arguments
     * @return the command line to execute {@code args} with
     */
    public static CommandLine commandLine(String... args) {
        if (args.length > 0) {
            for (Class<?> c : SUBCOMMANDS) {
                if (c.getAnnotation(Command.class).name().equals(args[0])) {
                    return commandLine(java.util.List.of(c));
                }
            }
        }
        return commandLine(SUBCOMMANDS);
    }

    private static CommandLine commandLine(java.util.List<Class<?>> subcommands) {
        System.setProperty("java.awt.headless", "true");
        CommandLine cl = new CommandLine(new Main());
        for (Class<?> c : subcommands) {
            cl.addSubcommand(c);
        }
        return cl.setExecutionExceptionHandler((ex, line, pr) -> {
            line.getErr().println("hope4j: " + ex.getMessage());
            return 1;
        });
    }

    /** Options every command shares. */
    static class Common {
        @Option(names = "--model", paramLabel = "DIR", description = "bundle directory (default: the embedded model)")
        Path model;

        @Option(names = "--backend", defaultValue = "auto", description = "engine backend: auto, cpu or cuda (default: ${DEFAULT-VALUE})")
        String backend;

        @Option(names = "--threads", defaultValue = "1", description = "ONNX Runtime threads (default: ${DEFAULT-VALUE})")
        int threads;

        @Option(names = "--rate-scale", defaultValue = "1", description = "multiply the L1/L2 inner learning rates (default: ${DEFAULT-VALUE},"
                + " the bundle's; smaller forgets less on long streams, 0 never steps them)")
        double rateScale;

        @Option(names = "--no-episodic", description = "switch the episodic level E off: the neural levels alone (an ablation)")
        boolean noEpisodic;

        @Option(names = "--no-anchor", description = "switch the pretrained anchor off: predictions come from the adapted model alone (half"
                + " the compute; learning one domain then makes other text worse, README \"Forgetting\")")
        boolean noAnchor;

        @Option(names = "--key-file", paramLabel = "FILE", description = "encrypt the saved state, experience and episodic tables with the"
                + " AES-256 key in FILE (owner-only; 32 raw bytes or 64 hex digits; hope4j keygen makes one), and open encrypted ones;"
                + " default: the key in $" + StateKey.ENVIRONMENT + " if set")
        Path keyFile;

        String graphProvider = "cpu";
        boolean singleTimescale;

        Learner open() {
            return Hope.open(bundle(), options());
        }

        /** The options {@link #open()} opens a learner with: these flags, the state key from {@code --key-file} or the environment. */
        LearnerOptions options() {
            LearnerOptions o = LearnerOptions.defaults().withBackend(backend).withGraphThreads(threads).withGraphProvider(graphProvider)
                    .withSingleTimescale(singleTimescale).withRateScale(rateScale);
            if (noEpisodic) {
                o = o.withEpisodic(null);
            }
            if (noAnchor) {
                o = o.withAnchorShare(0);
            }
            StateKey key = keyFile != null ? StateKey.fromFile(keyFile) : StateKey.fromEnvironment(StateKey.ENVIRONMENT);
            if (key != null) {
                o = o.withStateKey(key);
            }
            return o;
        }

        private org.hope4j.bundle.Bundle bundle;

        /**
         * The model bundle, loaded and verified once per process: every learner a command opens (the demo's, the service's
         * profiles) shares it, and with it the ONNX Runtime sessions of those open at the same time.
         */
        synchronized org.hope4j.bundle.Bundle bundle() {
            if (bundle == null) {
                if (model != null) {
                    if (!Files.isDirectory(model)) {
                        throw new IllegalArgumentException("--model: " + model + " is not a directory");
                    }
                    bundle = org.hope4j.bundle.Bundle.load(org.hope4j.bundle.BundleSource.directory(model));
                } else {
                    bundle = org.hope4j.bundle.Bundle.loadDefault();
                }
            }
            return bundle;
        }

        /** Opens a learner and restores {@code state} if it holds a saved state. */
        Learner open(Path state) {
            return open(state, options());
        }

        /**
         * {@link #open(Path)} for a command that never saves nor sleeps (score, generate): without the experience buffer
         * (1 MiB, read only by a sleep), which such a learner would fill for nothing.
         */
        Learner openUnsaved(Path state) {
            return open(state, options().withExperienceBytes(0));
        }

        private Learner open(Path state, LearnerOptions options) {
            Learner l = Hope.open(bundle(), options);
            if (state != null && Learner.hasSavedState(state)) {
                try {
                    l.restore(state);
                } catch (RuntimeException e) {
                    l.close();
                    throw e;
                }
            }
            return l;
        }
    }

    static void checkFile(CommandLine.Model.CommandSpec spec, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "FILE: " + file + " is not a readable file");
        }
    }

    /** A {@code --state} to read from (score, generate) must hold a saved learner: never silently the pretrained model. */
    static void checkSavedState(CommandLine.Model.CommandSpec spec, Path state) {
        if (state != null && !Learner.hasSavedState(state)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--state: " + state + (Files.isRegularFile(state) ? " is a file, not a state directory"
                    : " holds no saved learner (learner.state)") + "; leave --state out to use the pretrained model");
        }
    }

    /** A {@code --state} to save into (observe) must be a directory this process can write, checked before any learning. */
    static void checkWritableState(CommandLine.Model.CommandSpec spec, Path state) {
        try {
            Files.createDirectories(state);
        } catch (IOException | RuntimeException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--state: " + state + (Files.exists(state) && !Files.isDirectory(state)
                    ? " is a file, not a state directory" : " cannot be created: " + e.getMessage()));
        }
        if (!Files.isWritable(state)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--state: " + state + " is not writable");
        }
    }

    static String num(double x) {
        return Double.isFinite(x) ? String.format(Locale.ROOT, "%.4f", x) : "null";
    }

    @Command(name = "score", mixinStandardHelpOptions = true, description = "Bits/byte of FILE under the current state, without learning.")
    static final class ScoreCmd implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        Common common = new Common();
        @Option(names = "--state", paramLabel = "DIR", description = "learner state to score with (default: the pretrained model)")
        Path state;
        @Option(names = "--json", description = "print one JSON line")
        boolean json;
        @CommandLine.Mixin
        ReplayEpisodic.DumpOption dumpNeural = new ReplayEpisodic.DumpOption();
        @Parameters(paramLabel = "FILE", description = "any bytes, any size (streamed)")
        Path file;

        @Override
        public Integer call() throws IOException {
            checkFile(spec, file);
            checkSavedState(spec, state);
            try (Learner l = common.openUnsaved(state); InputStream in = new BufferedInputStream(Files.newInputStream(file));
                 ReplayEpisodic.Writer dump = dumpNeural.attach(l)) {
                l.freeze(org.hope4j.Level.L1);
                l.freeze(org.hope4j.Level.L2);
                Score s = l.observe(in);
                if (json) {
                    System.out.println("{\"bytes\": " + s.bytes() + ", \"bits_per_byte\": " + num(s.bitsPerByte()) + "}");
                } else {
                    System.out.printf(Locale.ROOT, "%s: %d bytes, %.4f bits/byte%n", file, s.bytes(), s.bitsPerByte());
                }
            }
            return 0;
        }
    }

    @Command(name = "observe", mixinStandardHelpOptions = true,
            description = "Learn from FILE chunk by chunk (each chunk scored before learning from it) and save the state.")
    static final class ObserveCmd implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        Common common = new Common();
        @Option(names = "--state", paramLabel = "DIR", required = true, description = "state directory: restored if present, saved at the end")
        Path state;
        @Option(names = "--json", description = "print one JSON line")
        boolean json;
        @Option(names = "--chunk", defaultValue = "65536", description = "bytes per chunk (default: ${DEFAULT-VALUE})")
        int chunk;
        @Option(names = "--save-every", paramLabel = "BYTES", defaultValue = "1048576",
                description = "also save the state after every BYTES learned (rounded up to whole chunks), so a kill loses at most that much;"
                        + " 0: only at the end (default: ${DEFAULT-VALUE})")
        long saveEvery;
        @Option(names = "--compare-frozen", description = "also read FILE with a second learner whose L1 and L2 stay frozen and report"
                + " its bits/byte (frozen_bits_per_byte; it doubles the time; default: off, the field is null)")
        boolean compareFrozen;
        @CommandLine.Mixin
        ReplayEpisodic.DumpOption dumpNeural = new ReplayEpisodic.DumpOption();
        @Parameters(paramLabel = "FILE", description = "any bytes, any size (streamed)")
        Path file;

        @Override
        public Integer call() throws IOException {
            checkFile(spec, file);
            if (chunk < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--chunk must be >= 1, found " + chunk);
            }
            if (saveEvery < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--save-every must be >= 0, found " + saveEvery);
            }
            checkWritableState(spec, state);
            int saves = 0;
            long total = Files.size(file);
            long t0 = System.nanoTime();
            Score learned = Score.empty();
            Score frozen = Score.empty();
            try (Learner l = common.open(state); Learner ref = compareFrozen ? common.open(state) : null;
                 InputStream in = new BufferedInputStream(Files.newInputStream(file));
                 ReplayEpisodic.Writer dump = dumpNeural.attach(l)) {
                if (ref != null) {
                    ref.freeze(org.hope4j.Level.L1);
                    ref.freeze(org.hope4j.Level.L2);
                }
                byte[] buf = new byte[chunk];
                int n;
                long done = 0;
                Progress progress = new Progress("observe", total, json ? null : System.err);
                while ((n = in.readNBytes(buf, 0, chunk)) > 0) {
                    byte[] part = n == buf.length ? buf : java.util.Arrays.copyOf(buf, n);
                    if (ref != null) {
                        frozen = frozen.plus(ref.observe(part));
                    }
                    learned = learned.plus(l.observe(part));
                    long before = done;
                    done += n;
                    progress.update(done, learned.bitsPerByte());
                    if (saveEvery > 0 && done < total && done / saveEvery > before / saveEvery) {
                        l.save(state); // durable progress: a kill loses at most --save-every bytes of learning
                        saves++;
                    }
                }
                l.save(state);
                saves++;
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            if (json) {
                System.out.println("{\"bytes\": " + learned.bytes() + ", \"frozen_bits_per_byte\": " + num(frozen.bitsPerByte())
                        + ", \"prequential_bits_per_byte\": " + num(learned.bitsPerByte()) + ", \"seconds\": " + num(secs)
                        + ", \"saves\": " + saves + ", \"rollbacks\": " + learned.rollbacks() + "}");
            } else {
                System.out.printf(Locale.ROOT, "%d bytes: %slearning %.4f bits/byte, %.1f s; state saved to %s%n", learned.bytes(),
                        compareFrozen ? String.format(Locale.ROOT, "frozen %.4f bits/byte, ", frozen.bitsPerByte()) : "", learned.bitsPerByte(), secs, state);
            }
            return 0;
        }
    }

    @Command(name = "keygen", mixinStandardHelpOptions = true,
            description = "Write a new random AES-256 state key into FILE (64 hex digits, owner-only) for --key-file or $" + StateKey.ENVIRONMENT + ".")
    static final class KeygenCmd implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--out", paramLabel = "FILE", required = true, description = "the key file to create (never overwritten)")
        Path out;

        @Override
        public Integer call() {
            if (Files.exists(out, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--out: " + out + " exists; a key file is never overwritten");
            }
            StateKey.generate(out);
            System.out.println("wrote a new state key to " + out + " (owner-only); keep a copy: without it the encrypted state cannot be opened");
            return 0;
        }
    }

    @Command(name = "generate", mixinStandardHelpOptions = true, description = "Continue a prompt, streaming the bytes to standard output.")
    static final class GenerateCmd implements Callable<Integer> {
        /** The most bytes one generate call makes (they are also kept in memory). */
        static final int MAX_BYTES = 1 << 24;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @CommandLine.Mixin
        Common common = new Common();
        @Option(names = "--state", paramLabel = "DIR", description = "learner state to generate with (default: the pretrained model)")
        Path state;
        @Option(names = "--prompt", defaultValue = "", description = "text to continue")
        String prompt;
        @Option(names = "--bytes", defaultValue = "200", description = "bytes to generate (default: ${DEFAULT-VALUE})")
        int bytes;
        @Option(names = "--temperature", defaultValue = "0.8", description = "0 = greedy (default: ${DEFAULT-VALUE})")
        double temperature;
        @Option(names = "--top-k", defaultValue = "40", description = "default: ${DEFAULT-VALUE}")
        int topK;
        @Option(names = "--seed", defaultValue = "0", description = "default: ${DEFAULT-VALUE}")
        long seed;

        @Override
        public Integer call() {
            checkSavedState(spec, state);
            if (bytes < 0 || bytes > MAX_BYTES) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--bytes must be in 0.." + MAX_BYTES + ", found " + bytes);
            }
            Sampling s = new Sampling(temperature, topK, seed);
            PrintStream out = System.out;
            try (Learner l = common.openUnsaved(state)) {
                out.print(prompt);
                l.generate(prompt.getBytes(StandardCharsets.UTF_8), bytes, s, b -> {
                    out.write(b, 0, b.length);
                    out.flush();
                });
                out.println();
            }
            return 0;
        }
    }

    /** A one-line progress display on stderr (nothing when {@code out} is null). */
    static final class Progress {
        private final String what;
        private final long total;
        private final PrintStream out;
        private final long t0 = System.nanoTime();
        private long last;

        Progress(String what, long total, PrintStream out) {
            this.what = what;
            this.total = total;
            this.out = out;
        }

        void update(long done, double bpb) {
            if (out == null) {
                return;
            }
            long now = System.nanoTime();
            if (now - last < 200_000_000L && done < total) {
                return;
            }
            last = now;
            double secs = (now - t0) / 1e9;
            double rate = done / Math.max(secs, 1e-9);
            out.printf(Locale.ROOT, "\r%s: %d/%d bytes (%.0f%%), %.0f bytes/s, %.3f bits/byte   ", what, done, total,
                    100.0 * done / Math.max(total, 1), rate, bpb);
            if (done >= total) {
                out.println();
            }
            out.flush();
        }
    }
}
