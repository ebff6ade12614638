package org.hope4j.tests;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.hope4j.Hope;
import org.hope4j.Learner;

/**
 * Child process for {@link CrashDuringSaveIT}: learns and saves in a loop until it is killed,
 * printing {@code saved <position>} after every completed save (stdout, flushed).
 */
public final class SaveLoop {
    private SaveLoop() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        byte[] text = "The quick brown fox jumps over the lazy dog, again and again. ".repeat(20).getBytes(StandardCharsets.UTF_8);
        try (Learner l = Hope.loadDefault()) {
            if (Learner.hasSavedState(dir)) {
                l.restore(dir);
            }
            while (true) {
                l.observe(text);
                for (int k = 0; k < 5; k++) { // several saves per observe: kills often land mid-save
                    l.save(dir);
                    System.out.println("saved " + l.position());
                    System.out.flush();
                }
            }
        }
    }
}
