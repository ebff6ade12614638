package org.hope4j.sleep;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Random;

/** Text for sleep tests: seeded, structured log lines unlike the pre-training prose, so online learning gains much. */
public final class SleepFixture {
    private SleepFixture() {
    }

    public static byte[] text(long seed, int bytes) {
        Random r = new Random(seed);
        String[] halls = {"north hall", "south annex", "boiler room", "east wing", "greenhouse"};
        String[] kinds = {"temperature", "humidity", "pressure", "vibration"};
        String[] units = {"C", "%", "hPa", "mm/s"};
        StringBuilder sb = new StringBuilder();
        while (sb.length() < bytes) {
            int k = r.nextInt(kinds.length);
            sb.append(String.format(Locale.ROOT, "[%02d:%02d] sensor %d in the %s reports %s %.1f %s; status %s.%n",
                    r.nextInt(24), r.nextInt(60), 100 + r.nextInt(40), halls[r.nextInt(halls.length)], kinds[k],
                    10 + 80 * r.nextDouble(), units[k], r.nextInt(5) == 0 ? "ALERT" : "nominal"));
        }
        return sb.substring(0, bytes).getBytes(StandardCharsets.US_ASCII);
    }
}
