package org.hope4j.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.hope4j.BundleException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    /** A file with the given header text and {@code dataBytes} bytes of data (value i & 0xff). */
    static byte[] raw(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (int i = 0; i < dataBytes; i++) {
            b.put((byte) i);
        }
        return b.array();
    }

    static String message(byte[] file, String origin) {
        return assertThrows(BundleException.class, () -> Safetensors.read(file, origin)).getMessage();
    }

    static Map<String, Tensor> sample() {
        Random r = new Random(3);
        float[] big = new float[4 * 8];
        for (int i = 0; i < big.length; i++) {
            big[i] = (float) r.nextGaussian();
        }
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("blocks.0.l1.up", new Tensor("blocks.0.l1.up", new int[] {4, 8}, big));
        m.put("special", new Tensor("special", new int[] {6},
                new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, Float.MIN_VALUE, Float.MAX_VALUE}));
        m.put("scalar", new Tensor("scalar", new int[0], new float[] {42f}));
        m.put("empty", new Tensor("empty", new int[] {0, 3}, new float[0]));
        m.put("a", new Tensor("a", new int[] {1, 1, 2}, new float[] {1f, -2f}));
        return m;
    }

    @Test
    void roundTripKeepsValuesBitForBitOrderAndMetadata() {
        Map<String, Tensor> t = sample();
        Map<String, String> meta = Map.of("format", "hope4j-state", "pos", "1024");
        byte[] bytes = Safetensors.toBytes(t, meta);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, headerLength % 8, "header padded to 8 bytes");
        assertEquals(8 + headerLength + 4 * (32 + 6 + 1 + 0 + 2), bytes.length);

        Safetensors.File f = Safetensors.read(bytes, "state.safetensors");
        assertEquals(List.copyOf(t.keySet()), List.copyOf(f.tensors().keySet()));
        assertEquals(t, f.tensors());
        for (String name : t.keySet()) {
            float[] want = t.get(name).data();
            float[] got = f.tensors().get(name).data();
            for (int i = 0; i < want.length; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), name + "[" + i + "]");
            }
        }
        assertEquals(meta, f.metadata());
    }

    @Test
    void noMetadataWritesNoMetadataEntry() {
        byte[] bytes = Safetensors.toBytes(Map.of("x", new Tensor("x", new int[] {1}, new float[] {1f})), Map.of());
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8).trim();
        assertEquals("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", header);
        assertEquals(Map.of(), Safetensors.read(bytes, "x").metadata());
    }

    @Test
    void writeIsAtomicAndReadable(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("state.safetensors");
        Safetensors.write(file, sample(), Map.of("k", "v"));
        Safetensors.write(file, sample(), Map.of("k", "w"));
        Safetensors.File f = Safetensors.read(file);
        assertEquals(sample(), f.tensors());
        assertEquals("w", f.metadata().get("k"));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(file), s.toList());
        }
    }

    @Test
    void metadataNameIsReservedForTensors() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Safetensors.toBytes(Map.of("__metadata__", new Tensor("__metadata__", new int[0], new float[1])), Map.of()));
        assertEquals("a tensor cannot be named __metadata__", e.getMessage());
    }

    @Test
    void readsI64AsFloat() {
        ByteBuffer data = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putLong(-3).putLong(0).putLong(1L << 24);
        String header = "{\"tokens\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[0,24]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        byte[] file = ByteBuffer.allocate(8 + h.length + 24).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).put(data.array()).array();
        Tensor t = Safetensors.read(file, "t").tensors().get("tokens");
        assertArrayEquals(new float[] {-3f, 0f, 16777216f}, t.data());
        assertArrayEquals(new int[] {3}, t.shape());
    }

    @Test
    void readsTheReferenceWritersGoldenFile() {
        Bundle b = Bundle.loadDefault();
        Safetensors.File f = Safetensors.read(b.bytes("golden/learn_on.safetensors"), "golden/learn_on.safetensors");
        Tensor logits = f.tensor("logits");
        assertArrayEquals(new int[] {b.manifest().golden().streamBytes(), 256}, logits.shape());
        assertEquals(Integer.toString(b.manifest().golden().streamBytes()), f.metadata().get("pos"));
        assertEquals(Long.toString(b.manifest().golden().runs().get("learn_on").counts().get("l0")), f.metadata().get("count_l0"));
        assertTrue(Float.isFinite(logits.data()[logits.size() - 1]));
    }

    // ---- corrupt inputs ----------------------------------------------------------------------

    @Test
    void shorterThanTheHeaderLength() {
        assertEquals("s.safetensors: file is 5 bytes, too short for the 8-byte header length", message(new byte[5], "s.safetensors"));
    }

    @Test
    void headerLengthPastTheEnd() {
        byte[] f = raw("{}", 0);
        ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000);
        assertEquals("s: header length 1000 runs past the end of the file (10 bytes, so at most 2 header bytes)", message(f, "s"));
        ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1);
        assertEquals("s: header length 18446744073709551615 runs past the end of the file (10 bytes, so at most 2 header bytes)",
                message(f, "s"));
    }

    @Test
    void truncatedFileNamesTheTensorThatRunsPastTheEnd() {
        byte[] full = Safetensors.toBytes(sample(), Map.of());
        byte[] cut = Arrays.copyOf(full, full.length - 4);
        String m = message(cut, "state.safetensors");
        assertTrue(m.startsWith("state.safetensors: tensor a: data_offsets [156, 164] run past the end of the data section (160 bytes)"), m);
    }

    @Test
    void byteCountMustMatchTheShape() {
        byte[] f = raw("{\"blocks.0.l1.up\":{\"dtype\":\"F32\",\"shape\":[4,8],\"data_offsets\":[0,100]}}", 100);
        assertEquals("state.safetensors: tensor blocks.0.l1.up: data_offsets [0, 100] hold 100 bytes but shape [4, 8] of F32 needs 128",
                message(f, "state.safetensors"));
    }

    @Test
    void offsetsMustBeOrderedAndInRange() {
        assertEquals("s: tensor x: data_offsets [8, 4] end before they begin",
                message(raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8), "s"));
        assertEquals("s: tensor x: data_offsets must be an array of 2 non-negative integers, found [0]",
                message(raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4), "s"));
        assertEquals("s: tensor x: data_offsets[0] must be a non-negative integer, found -4",
                message(raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4), "s"));
        assertEquals("s: tensor x: data_offsets[1] must be a non-negative integer, found 4.5",
                message(raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.5]}}", 4), "s"));
    }

    @Test
    void overlappingTensors() {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        assertEquals("s: tensors a and b overlap: data_offsets [0, 8] and [4, 12]", message(raw(h, 12), "s"));
    }

    @Test
    void gapsAndTrailingBytes() {
        String gap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
        assertEquals("s: bytes [4, 8) of the data section belong to no tensor (next: b)", message(raw(gap, 12), "s"));
        String one = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        assertEquals("s: data section is 6 bytes but the tensors cover only 4 (trailing bytes)", message(raw(one, 6), "s"));
    }

    @Test
    void unknownDtype() {
        assertEquals("s: tensor x: dtype BF16 is not supported (supported: [F32, I64])",
                message(raw("{\"x\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2), "s"));
    }

    @Test
    void missingOrWrongFields() {
        assertEquals("s: tensor x: missing field shape", message(raw("{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "s"));
        assertEquals("s: tensor x: missing field dtype", message(raw("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "s"));
        assertEquals("s: tensor x: shape[1] must be a non-negative integer, found -4",
                message(raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1,-4],\"data_offsets\":[0,4]}}", 4), "s"));
        assertEquals("s: tensor x: unknown field strides",
                message(raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"strides\":[1]}}", 4), "s"));
        assertEquals("s: tensor x: must be an object with dtype, shape and data_offsets, found [1]", message(raw("{\"x\":[1]}", 0), "s"));
        assertEquals("s: __metadata__.pos must be a string, found 3", message(raw("{\"__metadata__\":{\"pos\":3}}", 0), "s"));
    }

    @Test
    void badJsonHeader() {
        assertTrue(message(raw("{\"x\":", 0), "s").startsWith("s header: not valid JSON: "));
        assertTrue(message(raw("[1, 2]", 0), "s").startsWith("s header: not valid JSON: expected an object"));
        assertEquals("s header: not valid JSON: content after the top-level object", message(raw("{} {}", 0), "s"));
        assertEquals("s header: not valid JSON: malformed JSON at line 1 column 3 path $.", message(raw("{'x': 1}", 0), "s"));
        assertEquals("s header: not valid JSON: End of input at line 1 column 6 path $.x", message(raw("{\"x\":", 0), "s"));
        String dup = "{\"x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},\"x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}";
        assertEquals("s header: not valid JSON: duplicate name \"x\" at $.x", message(raw(dup, 0), "s"));
        byte[] f = raw("{\"\u00e9\":1}", 0);
        f[10] = (byte) 0xff; // break the UTF-8 sequence of the name
        assertEquals("s: header is not valid UTF-8", message(f, "s"));
    }

    @Test
    void paddingSpacesAfterTheHeaderAreAccepted() {
        byte[] f = raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}   ", 4);
        assertEquals(1, Safetensors.read(f, "s").tensors().size());
    }
}
