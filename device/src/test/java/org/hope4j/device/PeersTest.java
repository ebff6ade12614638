package org.hope4j.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The compressor peers of {@code hope4j continual}: what is counted as the code, priming in one stream, clear errors. */
class PeersTest {
    static final byte[] TEXT = ("Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing\n"
            + "to do: once or twice she had peeped into the book her sister was reading, but it had no pictures\n"
            + "or conversations in it, 'and what is the use of a book,' thought Alice 'without pictures or\n"
            + "conversations?'\n").getBytes(StandardCharsets.UTF_8);

    static byte[] repeat(byte[] b, int n) {
        byte[] out = new byte[b.length * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(b, 0, out, i * b.length, b.length);
        }
        return out;
    }

    @Test
    void aMissingToolNamesItsPackage(@TempDir Path empty) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Peers.find(Peers.Tool.PPMD, empty.toString()));
        assertEquals("7zz not found: apt-get install 7zip", e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> Peers.find(Peers.Tool.ZPAQ, null));
        assertEquals("zpaq not found: apt-get install zpaq", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Peers.Tool.of("bzip2"));
    }

    @ParameterizedTest
    @EnumSource(Peers.Tool.class)
    void noiseCostsItsLengthWithoutContainer(Peers.Tool tool) {
        byte[] noise = new byte[20_000];
        new Random(7).nextBytes(noise);
        long n = Peers.of(tool).codeBytes(noise);
        // PPMd expands incompressible bytes by about 2 %; a container (7z headers ~100 bytes, zpaq's model
        // description ~300 and journaling blocks ~700) would show above that
        double slack = tool == Peers.Tool.PPMD ? 0.03 : 0.005;
        assertTrue(n >= noise.length && n <= noise.length * (1 + slack) + 16, tool + ": " + n);
        assertTrue(Peers.of(tool).codeBytes(new byte[] {'a'}) <= 12);
    }

    @ParameterizedTest
    @EnumSource(Peers.Tool.class)
    void primingWithTheSameTextMakesItCheap(Peers.Tool tool) {
        Peers p = Peers.of(tool);
        byte[] target = repeat(TEXT, 3);
        double cold = p.cold(target);
        double primed = p.primed(repeat(TEXT, 3), target);
        assertTrue(cold > 0 && cold < 8, tool + " cold " + cold);
        assertTrue(primed < 0.5 * cold, tool + ": primed " + primed + ", cold " + cold);
        assertEquals(primed, Peers.of(tool).primed(repeat(TEXT, 3), target), "deterministic");
        assertThrows(IllegalArgumentException.class, () -> p.cold(new byte[0]));
    }

    static byte[] records() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            sb.append(String.format(java.util.Locale.ROOT, "%05d|%-12s|%8.2f|OK%n", i, "user" + (i * 7 % 13), i * 1.25));
        }
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void rebuildsTheModelOfZpaqM5() {
        Peers p = Peers.of(Peers.Tool.ZPAQ);
        byte[] rec = records();
        assertEquals(31 * 3000, rec.length);
        // the same method as hope_export.peers.zpaq_level5_method: a column model of the 31-byte records
        assertEquals("x0,0w2c0,1010,255i1c256ci1,1,1,1,1,1,2ac0,0,1030,255i1c0,31i1c0,0,1008,255i1c0,9i1c0,2,0,255i1c0,3,0,0,255i1"
                + "c0,4,0,0,0,255i1mm16ts19t0", Peers.zpaqLevel5Method(rec, rec.length + 20, 1));
        byte[] noise = new byte[20_000];
        new Random(7).nextBytes(noise);
        for (byte[] data : new byte[][] {repeat(TEXT, 40), rec, noise}) {
            String m = p.zpaqModelOf(data);
            assertTrue(m.startsWith("x"), m);
            assertEquals(p.codeBytes(data), p.codeBytes(data, m), m);
        }
    }

    @Test
    void parsesListingsAndArchives() {
        String listing = "Listing archive: a.7z\n\n--\nPath = a.7z\nType = 7z\nPhysical Size = 200\nHeaders Size = 100\nMethod = PPMD\n"
                + "Solid = -\nBlocks = 1\n\n----------\nPath = data\nSize = 1000\nPacked Size = 95\nMethod = PPMD:o8:mem28\nBlock = 0\n\n";
        assertEquals(95, Peers.packedSize(listing));
        assertThrows(IllegalStateException.class, () -> Peers.packedSize(listing.replace("PPMD", "LZMA2")));
        assertThrows(IllegalStateException.class, () -> Peers.zpaqPayload("PK\u0003\u0004 not zpaq".getBytes(StandardCharsets.ISO_8859_1)));
    }
}
