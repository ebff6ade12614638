package org.hope4j.consolidation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hope4j.StateException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExperienceBufferTest {
    @TempDir
    Path tmp;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void keepsTheNewestBytesInOrder() {
        ExperienceBuffer e = new ExperienceBuffer(5);
        e.append(b("abc"), 0, 3);
        assertArrayEquals(b("abc"), e.contents());
        e.append(b("defg"), 0, 4);
        assertArrayEquals(b("cdefg"), e.contents());
        e.append(b("0123456789"), 2, 7);
        assertArrayEquals(b("45678"), e.contents());
        e.clear();
        assertEquals(0, e.size());
        ExperienceBuffer none = new ExperienceBuffer(0);
        none.append(b("abc"), 0, 3);
        assertEquals(0, none.contents().length);
    }

    @Test
    void aBadRangeAppendsNothing() {
        ExperienceBuffer e = new ExperienceBuffer(8);
        e.append(b("abc"), 0, 3);
        assertThrows(IndexOutOfBoundsException.class, () -> e.append(b("defg"), 2, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> e.append(b("defg"), 0, -1));
        assertThrows(IndexOutOfBoundsException.class, () -> new ExperienceBuffer(0).append(b("ab"), 1, 2));
        assertArrayEquals(b("abc"), e.contents(), "nothing of a bad range was appended");
    }

    @Test
    void roundTripsAndShrinksToASmallerCapacity() {
        ExperienceBuffer e = new ExperienceBuffer(8);
        e.append(b("hello world"), 0, 11);
        Path f = tmp.resolve("experience.bin");
        e.save(f);
        assertArrayEquals(b("lo world"), ExperienceBuffer.load(f, 8).contents());
        assertArrayEquals(b("world"), ExperienceBuffer.load(f, 5).contents());
    }

    @Test
    void corruptFilesAreRefusedWithTheirName() throws Exception {
        ExperienceBuffer e = new ExperienceBuffer(64);
        e.append(b("some private text"), 0, 17);
        Path f = tmp.resolve("experience.bin");
        e.save(f);
        byte[] good = Files.readAllBytes(f);
        byte[] bad = good.clone();
        bad[bad.length - 1] ^= 1;
        Files.write(f, bad);
        StateException ex = assertThrows(StateException.class, () -> ExperienceBuffer.load(f, 64));
        assertTrue(ex.getMessage().contains("experience.bin") && ex.getMessage().contains("checksum"), ex.getMessage());
        Files.write(f, java.util.Arrays.copyOf(good, good.length - 3));
        assertTrue(assertThrows(StateException.class, () -> ExperienceBuffer.load(f, 64)).getMessage().contains("length"));
        Files.write(f, new byte[5]);
        assertTrue(assertThrows(StateException.class, () -> ExperienceBuffer.load(f, 64)).getMessage().contains("truncated"));
        assertThrows(IllegalArgumentException.class, () -> new ExperienceBuffer(-1));
    }
}
