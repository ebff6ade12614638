package org.hope4j.level;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import org.hope4j.EpisodicConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The episodic level on its own (uniform neural input): recall, transactions, persistence, bounds. */
class EpisodicLevelTest {
    static final EpisodicConfig SMALL = new EpisodicConfig(14, 16, 14, 4, 30, 10, 6, 2, 512);
    /** As {@link #SMALL} without recent copies: the level alone. */
    static final EpisodicConfig SMALL_ALONE = SMALL.withRecent(0, 512);

    /** Prose without repeats: the sentences are built from a seeded vocabulary. */
    static byte[] prose(long seed, int bytes) {
        String[] words = ("the of and to in a is that for it as was with be by on not he this are or his from at which but have an they "
                + "you were her she there been one all we their has would when if so no will more can time who its into only my some could "
                + "them other than then now over such our man me even most made after also did many before must through back years where much "
                + "your way well down should because each just those people how too little state good very make world still own see men work "
                + "long get here between both life being under never day same another know while last might us great old year off come since "
                + "against go came right used take three").split(" ");
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < bytes) {
            int n = 5 + r.nextInt(12);
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < n; i++) {
                s.append(i == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
            }
            s.setCharAt(0, Character.toUpperCase(s.charAt(0)));
            sb.append(s).append(r.nextInt(6) == 0 ? ".\n" : ". ");
        }
        return Arrays.copyOf(sb.toString().getBytes(StandardCharsets.US_ASCII), bytes);
    }

    static byte[] base64(long seed, int bytes) {
        byte[] raw = new byte[bytes];
        new Random(seed).nextBytes(raw);
        return Arrays.copyOf(Base64.getEncoder().encode(raw), bytes);
    }

    static double code(EpisodicLevel e, byte[] data) {
        double bits = 0;
        for (byte b : data) {
            bits += e.code(null, 0, b & 0xff);
        }
        return bits;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void aSecondCopyReadKilobytesLaterCostsLittle() {
        for (int gap : new int[] {1024, 4096, 8192}) {
            EpisodicLevel e = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
            byte[] para = prose(1, 407);
            byte[] b64 = base64(2, 349);
            code(e, prose(3, 2048));
            double first = code(e, para) / para.length;
            code(e, prose(4, gap));
            double second = code(e, para) / para.length;
            double b64first = code(e, b64) / b64.length;
            code(e, prose(5, gap));
            double b64second = code(e, b64) / b64.length;
            assertTrue(second <= 0.5, "gap " + gap + ": second copy of prose costs " + second + " bits/byte (first " + first + ")");
            assertTrue(b64second <= 0.6, "gap " + gap + ": second copy of base64 costs " + b64second + " bits/byte (first " + b64first + ")");
            assertTrue(b64first > 5, "random base64 cannot be predicted the first time: " + b64first);
        }
    }

    @Test
    void rollbackRestoresExactlyAndCommitKeeps() {
        EpisodicLevel e = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        code(e, prose(7, 5000));
        String before = e.digest();
        e.begin();
        double inside = code(e, concat(prose(8, 60_000), base64(9, 3000)));
        assertNotEquals(before, e.digest());
        e.rollback();
        assertEquals(before, e.digest());
        e.begin();
        double again = code(e, concat(prose(8, 60_000), base64(9, 3000)));
        assertEquals(inside, again, 0.0, "the same input after a rollback codes the same");
        String after = e.digest();
        e.commit();
        assertEquals(after, e.digest());
        assertThrows(IllegalStateException.class, e::rollback);
    }

    @Test
    void rollbackIsExactWhetherTheUndoLogOverflowsIntoPagesOrNot() {
        int limit = EpisodicLevel.logLimit;
        try {
            for (int l : new int[] {1 << 20, 5000, 1}) {
                EpisodicLevel.logLimit = l;
                EpisodicLevel e = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
                code(e, prose(11, 3000));
                String before = e.digest();
                e.begin();
                code(e, concat(prose(12, 20_000), base64(13, 2000)));
                e.rollback();
                assertEquals(before, e.digest(), "log limit " + l);
                e.begin();
                code(e, prose(14, 500)); // a short call: log only (or pages from the first write when the limit is 1)
                e.rollback();
                assertEquals(before, e.digest(), "log limit " + l + ", short call");
                e.begin();
                code(e, prose(15, 5000)); // a log of several chunks (about 90 writes a byte), or pages
                e.rollback();
                assertEquals(before, e.digest(), "log limit " + l + ", a log of several chunks");
                e.begin();
                code(e, prose(16, 5000)); // committed: the next call's log starts from its first chunk again
                e.commit();
                String committed = e.digest();
                e.begin();
                code(e, prose(17, 3000));
                e.rollback();
                assertEquals(committed, e.digest(), "log limit " + l + ", after a commit");
                before = committed;
            }
        } finally {
            EpisodicLevel.logLimit = limit;
        }
    }

    @Test
    void savedStateContinuesExactly() throws IOException {
        EpisodicLevel a = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        code(a, prose(10, 20_000));
        EpisodicLevel b = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        b.readFrom(new DataInputStream(new ByteArrayInputStream(state(a))));
        assertEquals(a.digest(), b.digest());
        byte[] more = prose(11, 3000);
        assertEquals(code(a, more), code(b, more), 0.0);
        assertEquals(a.digest(), b.digest());
    }

    @Test
    void aShortOrForeignStateIsRefusedAndChangesNothing() throws IOException {
        EpisodicLevel a = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        code(a, prose(12, 4000));
        byte[] full = state(a);
        EpisodicLevel b = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        code(b, prose(13, 1000));
        String bBefore = b.digest();
        assertThrows(IOException.class, () -> b.readFrom(new DataInputStream(new ByteArrayInputStream(Arrays.copyOf(full, full.length - 1)))));
        assertThrows(IOException.class, () -> b.readFrom(new DataInputStream(new ByteArrayInputStream(concat(full, new byte[1])))));
        EpisodicLevel other = new EpisodicLevel(new EpisodicConfig(15, 16, 14, 4, 30, 10, 6, 2, 512), EpisodicLevel.Prior.neutral());
        IOException e = assertThrows(IOException.class, () -> other.readFrom(new DataInputStream(new ByteArrayInputStream(full))));
        assertTrue(e.getMessage().contains("2^14"), e.getMessage());
        assertEquals(bBefore, b.digest());
    }

    @Test
    void aStateWrittenBeforeTheFinalMixerReadsWithTheMixerAtItsStart() throws IOException {
        EpisodicLevel a = new EpisodicLevel(SMALL_ALONE, EpisodicLevel.Prior.neutral());
        code(a, prose(15, 3000));
        byte[] full = state(a);
        byte[] old = Arrays.copyOf(full, full.length - 16); // the layout before the final mixer: no wF at the end
        EpisodicLevel b = new EpisodicLevel(SMALL_ALONE, EpisodicLevel.Prior.neutral());
        b.readFrom(new DataInputStream(new ByteArrayInputStream(old)));
        byte[] again = state(b);
        assertTrue(Arrays.equals(old, Arrays.copyOf(again, old.length)));
        java.nio.ByteBuffer tail = java.nio.ByteBuffer.wrap(again, old.length, 16);
        assertEquals(java.util.List.of(32768, 32768, 0, 0), java.util.List.of(tail.getInt(), tail.getInt(), tail.getInt(), tail.getInt()));
        assertNotEquals(java.util.List.of(32768, 32768, 0, 0), java.util.List.of(java.nio.ByteBuffer.wrap(full, old.length, 16).getInt(),
                java.nio.ByteBuffer.wrap(full, old.length + 4, 12).getInt(), java.nio.ByteBuffer.wrap(full, old.length + 8, 8).getInt(),
                java.nio.ByteBuffer.wrap(full, old.length + 12, 4).getInt()), "the final mixer learned from 3,000 bytes");
        String before = b.digest();
        byte[] bad = full.clone();
        java.nio.ByteBuffer.wrap(bad, bad.length - 4, 4).putInt((1 << 23) + 1);
        IOException e = assertThrows(IOException.class, () -> b.readFrom(new DataInputStream(new ByteArrayInputStream(bad))));
        assertTrue(e.getMessage().contains("final mixer weight 3"), e.getMessage());
        assertThrows(IOException.class, () -> b.readFrom(new DataInputStream(new ByteArrayInputStream(Arrays.copyOf(full, full.length - 8)))));
        byte[] torn = full.clone();
        java.nio.ByteBuffer.wrap(torn, 12 + 8, 8).putLong(255); // c0 of a byte's eighth bit with bitIndex 0: no such state
        e = assertThrows(IOException.class, () -> b.readFrom(new DataInputStream(new ByteArrayInputStream(torn))));
        assertTrue(e.getMessage().contains("scalars out of range"), e.getMessage());
        assertEquals(before, b.digest());
    }

    @Test
    void aStateWrittenBeforeTheRecentCopiesReadsWithThemEmpty() throws IOException {
        EpisodicLevel alone = new EpisodicLevel(SMALL_ALONE, EpisodicLevel.Prior.neutral());
        code(alone, prose(31, 3000));
        byte[] old = state(alone);
        EpisodicLevel b = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        code(b, prose(32, 2000));
        b.readFrom(new DataInputStream(new ByteArrayInputStream(old)));
        byte[] again = state(b);
        byte[] fresh = state(new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral()));
        assertTrue(Arrays.equals(old, Arrays.copyOf(again, old.length)), "the level's own state as written");
        assertTrue(Arrays.equals(Arrays.copyOfRange(fresh, old.length, fresh.length), Arrays.copyOfRange(again, old.length, again.length)),
                "the recent copies empty and the weights uniform");
        assertArrayEquals(new double[] {1 / 3.0, 1 / 3.0, 1 / 3.0}, b.mixtureWeights());
        // and it reads on: the copies fill from the next byte
        code(b, prose(33, 1500));
        assertNotEquals(1 / 3.0, b.mixtureWeights()[0]);
    }

    @Test
    void badMixtureWeightsAreRefusedAndChangeNothing() throws IOException {
        EpisodicLevel a = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        code(a, prose(34, 3000));
        byte[] full = state(a);
        EpisodicLevel b = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        code(b, prose(35, 700));
        String before = b.digest();
        for (double bad : new double[] {Double.NaN, -0.25, 0.0, 0.9}) {
            byte[] torn = full.clone();
            java.nio.ByteBuffer.wrap(torn, torn.length - 8, 8).putDouble(bad);
            IOException e = assertThrows(IOException.class, () -> b.readFrom(new DataInputStream(new ByteArrayInputStream(torn))));
            assertTrue(e.getMessage().contains("recent-copy weight"), e.getMessage());
        }
        assertThrows(IOException.class, () -> b.readFrom(new DataInputStream(new ByteArrayInputStream(Arrays.copyOf(full, full.length - 3)))));
        assertEquals(before, b.digest());
    }

    /**
     * The recent copies (issue 11's forgetting): after a long domain whose statistics mislead on the next text (the same
     * letters in other orders: {@link #prose} through a substitution of its letters), the mixture moves to a copy emptied
     * after the switch, and the new text costs less than it costs the level alone after the same domain.
     */
    @Test
    void afterADomainSwitchTheMixtureFollowsARecentCopy() {
        byte[] domain = substituted(prose(41, 24 * 1024));
        byte[] text = prose(42, 6000);
        EpisodicLevel mixed = new EpisodicLevel(SMALL.withRecent(2, 2048), EpisodicLevel.Prior.neutral());
        EpisodicLevel alone = new EpisodicLevel(SMALL_ALONE, EpisodicLevel.Prior.neutral());
        // (the default life, 2 KB: with 512 bytes the copies lead too but know too little to pay here)
        codeWithNeural(mixed, domain);
        codeWithNeural(alone, domain);
        double[] inDomain = mixed.mixtureWeights();
        assertTrue(inDomain[0] > 0.5, "within the domain the long memory leads: " + Arrays.toString(inDomain));
        float[] logits = new float[256];
        Random r = new Random(23);
        double m = 0, a = 0, recentMax = 0;
        for (byte b : text) {
            Arrays.fill(logits, 0f);
            logits[r.nextBoolean() ? b & 0xff : r.nextInt(256)] = 5.6f;
            m += mixed.code(logits, 0, b & 0xff);
            a += alone.code(logits, 0, b & 0xff);
            double[] w = mixed.mixtureWeights();
            recentMax = Math.max(recentMax, w[1] + w[2]);
        }
        System.out.printf(java.util.Locale.ROOT, "after the domain: level alone %.4f, with recent copies %.4f bits/byte; recent copies' weight at most %.3f%n",
                a / text.length, m / text.length, recentMax);
        assertTrue(recentMax > 0.5, "the copies emptied after the switch lead at some point: " + recentMax);
        assertTrue(m < a, "with recent copies " + m / text.length + " against the level alone " + a / text.length);
    }

    /** {@code text} with its lowercase letters through a fixed permutation (the same letters, other statistics). */
    static byte[] substituted(byte[] text) {
        String from = "abcdefghijklmnopqrstuvwxyz", to = "qwertyuiopasdfghjklzxcvbnm";
        byte[] out = text.clone();
        for (int i = 0; i < out.length; i++) {
            int k = from.indexOf(out[i]);
            if (k >= 0) {
                out[i] = (byte) to.charAt(k);
            }
        }
        return out;
    }

    @Test
    void stateBytesIsTheSizeWriteToWritesForEveryConfiguration() throws IOException {
        for (EpisodicConfig c : new EpisodicConfig[] {SMALL, EpisodicConfig.defaults()}) {
            EpisodicLevel e = new EpisodicLevel(c, EpisodicLevel.Prior.neutral());
            assertEquals(state(e).length, e.stateBytes(), "fresh, " + c);
            byte[] text = prose(5, 3000);
            for (byte b : text) {
                e.code(null, 0, b & 0xff);
            }
            assertEquals(state(e).length, e.stateBytes(), "after " + text.length + " bytes, " + c);
        }
    }

    static byte[] state(EpisodicLevel e) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(buf)) {
            e.writeTo(out);
        }
        return buf.toByteArray();
    }

    /**
     * Forgetting (issue 11): after 48 KB of one kind of text, another kind of text costs no more than
     * it costs a fresh level (both read with the same neural distribution, right half of the time).
     */
    @Test
    void aNewKindOfTextAfterALongDomainCostsAboutWhatItCostsAFreshLevel() {
        byte[] domain = pseudoGerman(21, 48 * 1024);
        byte[] text = prose(22, 6000);
        EpisodicLevel fresh = new EpisodicLevel(EpisodicConfig.defaults(), EpisodicLevel.Prior.neutral());
        EpisodicLevel after = new EpisodicLevel(EpisodicConfig.defaults(), EpisodicLevel.Prior.neutral());
        codeWithNeural(after, domain);
        double f = codeWithNeural(fresh, text), a = codeWithNeural(after, text);
        System.out.printf(java.util.Locale.ROOT, "fresh %.4f after the domain %.4f bits/byte (%+.2f %%)%n", f / text.length, a / text.length, 100 * (a / f - 1));
        // before the final mixer and the surprise rule: +0.47 % here (and +0.4 to +3.8 % on real text)
        assertTrue(a <= f, "after the domain " + a / text.length + " against fresh " + f / text.length);
    }

    /** Words of another language over the same letters: shares the low-order contexts with {@link #prose}. */
    static byte[] pseudoGerman(long seed, int bytes) {
        String[] words = ("der die das und ist nicht ein eine zu mit auf sich dem den von sie es ich wir ihr sind war werden "
                + "wurde auch noch nach wie aus bei oder aber wenn dann schon sehr hier immer wieder zwischen durch gegen ohne unter "
                + "zeit jahr welt mensch leben arbeit frage stadt haus kind sprache geschichte zukunft wasser strasse").split(" ");
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < bytes) {
            int n = 4 + r.nextInt(10);
            for (int i = 0; i < n; i++) {
                sb.append(i == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
            }
            sb.append(r.nextInt(5) == 0 ? ".\n" : ". ");
        }
        return Arrays.copyOf(sb.toString().getBytes(StandardCharsets.US_ASCII), bytes);
    }

    /**
     * Codes {@code data} with a neural distribution that is right half of the time: it puts about half
     * its mass on the right byte, or on a random one.
     */
    static double codeWithNeural(EpisodicLevel e, byte[] data) {
        float[] logits = new float[256];
        Random r = new Random(23);
        double bits = 0;
        for (byte b : data) {
            Arrays.fill(logits, 0f);
            logits[r.nextBoolean() ? b & 0xff : r.nextInt(256)] = 5.6f; // e^5.6 ~ 270: ~0.51 of the mass
            bits += e.code(logits, 0, b & 0xff);
        }
        return bits;
    }

    @Test
    void agingCapsTheCountsAndKeepsWhatTheTablesPredict() throws IOException {
        EpisodicLevel a = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        code(a, prose(16, 8000));
        String before = a.digest();
        a.age(31);
        assertEquals(before, a.digest(), "31 is above every count: nothing changes");
        a.age(2);
        String aged = a.digest();
        assertNotEquals(before, aged);
        a.age(2);
        assertEquals(aged, a.digest(), "aging twice to the same cap is aging once");
        byte[] st = state(a);
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(st);
        // writeTo's layout: 3 ints, 10 longs, the mixers, maps and match map, then `big` (context slots first)
        int small = (EpisodicLevel.SETS_A + EpisodicLevel.SETS_B) * EpisodicLevel.INPUTS + 256 * EpisodicLevel.APM_KNOTS
                + (EpisodicLevel.MATCH_CONTEXTS + 1) * EpisodicLevel.APM_KNOTS + EpisodicConfig.CONTEXTS * EpisodicLevel.CTX_APM_SETS * EpisodicLevel.APM_KNOTS
                + EpisodicLevel.MATCH_CONTEXTS;
        int base = 12 + 80 + 4 * small;
        int seen = 0;
        for (int i = 0; i < (EpisodicConfig.CONTEXTS << SMALL.tableBits()); i++) {
            int v = bb.getInt(base + 4 * i);
            assertTrue((v & 31) <= 2, "slot " + i + " count " + (v & 31));
            seen += (v >>> 10 & 0xffff) != 32768 ? 1 : 0;
        }
        assertTrue(seen > 1000, "the slots keep their probabilities: " + seen + " differ from the start");
        EpisodicLevel b = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        code(b, prose(16, 8000));
        byte[] more = prose(17, 2000);
        assertNotEquals(code(b, more), code(a, more), 0.0);
        b.begin();
        assertThrows(IllegalStateException.class, () -> b.age(2));
        b.rollback();
        assertThrows(IllegalArgumentException.class, () -> b.age(32));
    }

    @Test
    void recalibratingResetsTheMapsOnly() {
        EpisodicLevel fresh = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        String empty = fresh.digest();
        fresh.recalibrate();
        assertEquals(empty, fresh.digest(), "a level that read nothing has identity maps already");
        EpisodicLevel a = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        code(a, prose(17, 6000));
        String read = a.digest();
        a.recalibrate();
        String recalibrated = a.digest();
        assertNotEquals(read, recalibrated, "reading moved the maps");
        a.recalibrate();
        assertEquals(recalibrated, a.digest(), "twice is once");
        a.reset();
        assertEquals(empty, a.digest());
        a.begin();
        assertThrows(IllegalStateException.class, a::recalibrate);
        a.rollback();
        // which parts it touches (maps only, the tables, history, match model and mixers kept) is fixed by the
        // Python reference: EpisodicParityTest's aged run recalibrates and compares the whole state's digest
    }

    @Test
    void agingWithAConfidenceMovesEverySlotHalfwayToOneHalf() {
        EpisodicLevel a = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        code(a, prose(16, 8000));
        String before = a.digest();
        a.age(31, 1);
        assertEquals(before, a.digest(), "count cap 31 and confidence 1 change nothing");
        // one slot, by the rule: p = 1/2 + keep/256 (p - 1/2), floored; check bits, last bits and a lower count stay
        int p = 60000;
        int slot = (37 << 26) | (p << 10) | (0b10110 << 5) | 9;
        int aged = EpisodicLevel.agedSlot(slot, 2, EpisodicLevel.confidenceSteps(0.5));
        assertEquals(37, aged >>> 26);
        assertEquals(32768 + ((p - 32768) >> 1), aged >>> 10 & 0xFFFF);
        assertEquals(0b10110, aged >>> 5 & 31);
        assertEquals(2, aged & 31);
        assertEquals(32768 + ((1000 - 32768) * 96 >> 8), EpisodicLevel.agedSlot(1000 << 10, 31, 96) >>> 10 & 0xFFFF, "below 1/2: floored");
        assertEquals(32768 << 10, EpisodicLevel.agedSlot(32768 << 10, 0, 0), "an empty slot stays empty");
        assertEquals(slot, EpisodicLevel.agedSlot(slot, 31, 256));
        // a softened level reads text like its own earlier text less surely, and other text better than an unsoftened one
        EpisodicLevel kept = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        code(kept, prose(16, 8000));
        EpisodicLevel soft = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        code(soft, prose(16, 8000));
        soft.age(2, 0.5);
        assertNotEquals(kept.digest(), soft.digest());
        byte[] other = base64(5, 3000);
        assertTrue(code(soft, other) < code(kept, other), "stale statistics cost less once softened");
        assertThrows(IllegalArgumentException.class, () -> soft.age(2, 1.5));
        assertThrows(IllegalArgumentException.class, () -> soft.age(2, Double.NaN));
    }

    @Test
    void resetForgetsEverything() {
        EpisodicLevel a = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        String fresh = a.digest();
        code(a, prose(14, 3000));
        a.reset();
        assertEquals(fresh, a.digest());
        assertEquals(0, a.position());
    }

    @Test
    void memoryIsBoundedByTheConfiguration() {
        assertTrue(EpisodicConfig.defaults().bytes() <= 32L << 20, "default tables " + EpisodicConfig.defaults().bytes());
        assertThrows(IllegalArgumentException.class, () -> new EpisodicConfig(27, 16, 14, 4, 30, 10, 6, 0, 2048));
        assertThrows(IllegalArgumentException.class, () -> new EpisodicConfig(14, 16, 14, 1, 30, 10, 6, 0, 2048));
    }

    @Test
    void squashAndStretchAreInverse() {
        for (int p = 1; p < 4095; p++) {
            int s = Logistic.stretch(p);
            assertTrue(Logistic.squash(s) >= p && (s == -2047 || Logistic.squash(s - 1) < p), "p " + p);
        }
    }

    @Test
    void priorRoundTripsThroughJson() {
        EpisodicLevel a = new EpisodicLevel(SMALL, EpisodicLevel.Prior.neutral());
        code(a, prose(15, 3000));
        EpisodicLevel.Prior p = a.learned();
        EpisodicLevel.Prior q = EpisodicLevel.Prior.fromJson(p.toJson("test").getBytes(StandardCharsets.UTF_8), "episodic.json");
        assertEquals(Arrays.toString(p.weightsA()), Arrays.toString(q.weightsA()));
        assertEquals(Arrays.toString(p.matchMap()), Arrays.toString(q.matchMap()));
        var bad = assertThrows(org.hope4j.BundleException.class, () -> EpisodicLevel.Prior.fromJson("{\"format\":\"x\"}".getBytes(StandardCharsets.UTF_8), "b/episodic.json"));
        assertTrue(bad.getMessage().startsWith("b/episodic.json: "), bad.getMessage());
    }
}
