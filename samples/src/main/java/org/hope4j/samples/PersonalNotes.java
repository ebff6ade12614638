package org.hope4j.samples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.Sampling;
import org.hope4j.Score;

/**
 * A notes application's use of Hope4J: every note the user writes is learned on the device, the
 * learned state is kept in the user's data directory across runs, and the model completes the
 * user's next sentence in their own style.
 *
 * <pre>
 * java -cp ... org.hope4j.samples.PersonalNotes STATE_DIR NOTE_FILE... [--complete PROMPT]
 * </pre>
 */
public final class PersonalNotes {
    private PersonalNotes() {
    }

    /** Learns every note file, saves, and optionally completes a prompt. Returns the learned score. */
    public static Score run(Path stateDir, Iterable<Path> notes, String prompt, StringBuilder completion) throws IOException {
        try (Learner learner = Hope.loadDefault(stateDir)) { // continues where the last session stopped
            Score total = Score.empty();
            for (Path note : notes) {
                total = total.plus(learner.observe(Files.readAllBytes(note)));
            }
            learner.save(stateDir); // atomic: a crash here leaves the previous state intact
            if (prompt != null && completion != null) {
                completion.append(learner.generate(prompt, 80, Sampling.defaults().withSeed(1)));
            }
            return total;
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: PersonalNotes STATE_DIR NOTE_FILE... [--complete PROMPT]");
            System.exit(2);
        }
        Path state = Path.of(args[0]);
        java.util.List<Path> notes = new java.util.ArrayList<>();
        String prompt = null;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--complete") && i + 1 < args.length) {
                prompt = args[++i];
            } else {
                notes.add(Path.of(args[i]));
            }
        }
        StringBuilder completion = new StringBuilder();
        Score s = run(state, notes, prompt, completion);
        System.out.printf(Locale.ROOT, "learned %d bytes at %.3f bits/byte (scored before learning each byte)%n", s.bytes(), s.bitsPerByte());
        if (prompt != null) {
            System.out.println(prompt + completion);
        }
    }
}
