import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.hope4j.Hope;
import org.hope4j.Learner;
import org.hope4j.Level;
import org.hope4j.Score;

/**
 * The most a sleep that empties E could keep (issue 12): scores FILE with the learner saved in STATE_DIR after
 * emptying its episodic level, i.e. with the neural levels exactly as online learning left them (no sleep, L1 not
 * reset) and a fresh E that learns within the call. Prints one JSON line like {@code hope4j score --json}.
 * Run with the packaged program on the class path: {@code java -cp device/target/hope4j.jar EpisodicCeiling.java STATE_DIR FILE}.
 */
public class EpisodicCeiling {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: java -cp hope4j.jar EpisodicCeiling.java STATE_DIR FILE");
            System.exit(2);
        }
        byte[] text = Files.readAllBytes(Path.of(args[1]));
        try (Learner l = Hope.loadDefault(Path.of(args[0]))) {
            l.reset(Level.E); // in memory only: nothing is saved
            Score s = l.score(text);
            System.out.printf(Locale.ROOT, "{\"bytes\": %d, \"bits_per_byte\": %.4f}%n", text.length, s.bitsPerByte());
        }
    }
}
