package org.hope4j.bundle;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.hope4j.BundleException;
import org.hope4j.state.AtomicFiles;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length {@code n}, a UTF-8
 * JSON header of {@code n} bytes
 * ({@code {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}}),
 * then the raw little-endian data; offsets are relative to the first byte after the header.
 *
 * <p>Reading accepts {@code F32} and {@code I64} (converted to float, exact up to 2<sup>24</sup>) and
 * checks everything: header bounds, strict JSON, every field, offsets inside the data section, byte
 * counts that match the shapes, no overlaps, no unused bytes. Every failure is a
 * {@link BundleException} naming the origin, the tensor and the field. Writing produces {@code F32}
 * tensors in map order, contiguous, with the header padded by spaces to a multiple of 8 bytes (as the
 * reference writer in {@code model-export} does).
 */
public final class Safetensors {
    /** The name of the header entry that holds string metadata rather than a tensor. */
    public static final String METADATA = "__metadata__";

    private static final int HEADER_LENGTH_BYTES = 8;

    private Safetensors() {
    }

    /**
     * The content of a safetensors file.
     *
     * @param tensors the tensors in header order, by name (unmodifiable)
     * @param metadata the {@code __metadata__} strings, empty if the file has none (unmodifiable)
     */
    public record File(Map<String, Tensor> tensors, Map<String, String> metadata) {
        /**
         * Copies both maps into unmodifiable maps that keep their order.
         *
         * @param tensors the tensors in header order, by name (unmodifiable)
         * @param metadata the {@code __metadata__} strings, empty if the file has none (unmodifiable)
         */
        public File {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }

        /**
         * Returns a tensor that must be present.
         *
         * @param name the tensor's name
         * @return the tensor
         * @throws BundleException if there is no tensor of that name
         */
        public Tensor tensor(String name) {
            Tensor t = tensors.get(name);
            if (t == null) {
                throw new BundleException("no tensor " + name + " among " + tensors.size() + " tensors");
            }
            return t;
        }
    }

    /** The element types this reader understands. */
    private enum DType {
        F32(4), I64(8);

        final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }
    }

    /** One header entry, checked on its own, before the entries are checked against each other. */
    private record Entry(String name, DType dtype, int[] shape, long begin, long end) {
    }

    /**
     * Parses a safetensors file held in memory.
     *
     * @param bytes the whole file
     * @param origin what to name in messages, usually the file name or path
     * @return the tensors and metadata
     * @throws BundleException naming {@code origin}, the tensor and the field if anything is malformed
     */
    public static File read(byte[] bytes, String origin) {
        Objects.requireNonNull(bytes, "bytes");
        Objects.requireNonNull(origin, "origin");
        if (bytes.length < HEADER_LENGTH_BYTES) {
            throw new BundleException(origin + ": file is " + bytes.length + " bytes, too short for the 8-byte header length");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = buf.getLong(0);
        long available = bytes.length - HEADER_LENGTH_BYTES;
        if (headerLength < 0 || headerLength > available) {
            throw new BundleException(origin + ": header length " + Long.toUnsignedString(headerLength) + " runs past the end of the file ("
                    + bytes.length + " bytes, so at most " + available + " header bytes)");
        }
        String headerText;
        try {
            headerText = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, HEADER_LENGTH_BYTES, (int) headerLength))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new BundleException(origin + ": header is not valid UTF-8", e);
        }
        JsonObject header = StrictJson.parseObject(headerText, origin + " header");
        int dataStart = HEADER_LENGTH_BYTES + (int) headerLength;
        long dataLength = bytes.length - (long) dataStart;

        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            if (e.getKey().equals(METADATA)) {
                readMetadata(e.getValue(), origin, metadata);
            } else {
                entries.add(readEntry(e.getKey(), e.getValue(), dataLength, origin));
            }
        }
        checkLayout(entries, dataLength, origin);

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry en : entries) {
            tensors.put(en.name, new Tensor(en.name, en.shape, decode(buf, dataStart, en)));
        }
        return new File(tensors, metadata);
    }

    /**
     * Reads and parses a safetensors file.
     *
     * @param path the file
     * @return the tensors and metadata
     * @throws BundleException naming the path if the file cannot be read or is malformed
     */
    public static File read(Path path) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new BundleException(path + ": cannot read: " + e, e);
        }
        return read(bytes, path.toString());
    }

    private static void readMetadata(JsonElement value, String origin, Map<String, String> out) {
        if (!value.isJsonObject()) {
            throw new BundleException(origin + ": " + METADATA + " must be an object of strings, found " + StrictJson.show(value));
        }
        for (Map.Entry<String, JsonElement> m : value.getAsJsonObject().entrySet()) {
            JsonElement v = m.getValue();
            if (!(v.isJsonPrimitive() && v.getAsJsonPrimitive().isString())) {
                throw new BundleException(origin + ": " + METADATA + "." + m.getKey() + " must be a string, found " + StrictJson.show(v));
            }
            out.put(m.getKey(), v.getAsString());
        }
    }

    private static Entry readEntry(String name, JsonElement value, long dataLength, String origin) {
        String where = origin + ": tensor " + name;
        if (!value.isJsonObject()) {
            throw new BundleException(where + ": must be an object with dtype, shape and data_offsets, found " + StrictJson.show(value));
        }
        JsonObject o = value.getAsJsonObject();
        for (String key : o.keySet()) {
            if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                throw new BundleException(where + ": unknown field " + key);
            }
        }
        JsonElement dt = o.get("dtype");
        if (dt == null) {
            throw new BundleException(where + ": missing field dtype");
        }
        if (!(dt.isJsonPrimitive() && dt.getAsJsonPrimitive().isString())) {
            throw new BundleException(where + ": dtype must be a string, found " + StrictJson.show(dt));
        }
        DType dtype;
        try {
            dtype = DType.valueOf(dt.getAsString());
        } catch (IllegalArgumentException e) {
            throw new BundleException(where + ": dtype " + dt.getAsString() + " is not supported (supported: "
                    + Arrays.toString(DType.values()) + ")", e);
        }
        long[] shapeL = longArray(o.get("shape"), where, "shape", -1);
        int[] shape = new int[shapeL.length];
        long count = 1;
        for (int i = 0; i < shapeL.length; i++) {
            if (shapeL[i] > Integer.MAX_VALUE) {
                throw new BundleException(where + ": shape " + Arrays.toString(shapeL) + " has a dimension above " + Integer.MAX_VALUE);
            }
            shape[i] = (int) shapeL[i];
            count *= shapeL[i];
            if (count > Integer.MAX_VALUE) {
                throw new BundleException(where + ": shape " + Arrays.toString(shapeL) + " holds more than " + Integer.MAX_VALUE + " values");
            }
        }
        long[] off = longArray(o.get("data_offsets"), where, "data_offsets", 2);
        long begin = off[0];
        long end = off[1];
        if (begin > end) {
            throw new BundleException(where + ": data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end > dataLength) {
            throw new BundleException(where + ": data_offsets [" + begin + ", " + end + "] run past the end of the data section ("
                    + dataLength + " bytes)");
        }
        long need = count * dtype.bytes;
        if (end - begin != need) {
            throw new BundleException(where + ": data_offsets [" + begin + ", " + end + "] hold " + (end - begin) + " bytes but shape "
                    + Arrays.toString(shape) + " of " + dtype + " needs " + need);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    /** A JSON array of non-negative integers, of {@code length} elements unless that is -1. */
    private static long[] longArray(JsonElement e, String where, String field, int length) {
        if (e == null) {
            throw new BundleException(where + ": missing field " + field);
        }
        if (!e.isJsonArray() || (length >= 0 && e.getAsJsonArray().size() != length)) {
            String want = length >= 0 ? "an array of " + length + " non-negative integers" : "an array of non-negative integers";
            throw new BundleException(where + ": " + field + " must be " + want + ", found " + StrictJson.show(e));
        }
        JsonArray a = e.getAsJsonArray();
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonElement x = a.get(i);
            BigDecimal v = x.isJsonPrimitive() && x.getAsJsonPrimitive().isNumber() ? x.getAsBigDecimal() : null;
            if (v == null || v.signum() < 0 || v.stripTrailingZeros().scale() > 0 || v.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
                throw new BundleException(where + ": " + field + "[" + i + "] must be a non-negative integer, found " + StrictJson.show(x));
            }
            out[i] = v.longValueExact();
        }
        return out;
    }

    /** Tensors must tile the data section: no overlaps, no gaps, nothing after the last one. */
    private static void checkLayout(List<Entry> entries, long dataLength, String origin) {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        Entry previous = null;
        for (Entry e : byOffset) {
            if (e.begin == e.end) {
                continue; // an empty tensor occupies no bytes
            }
            if (e.begin < covered) {
                throw new BundleException(origin + ": tensors " + previous.name + " and " + e.name + " overlap: data_offsets ["
                        + previous.begin + ", " + previous.end + "] and [" + e.begin + ", " + e.end + "]");
            }
            if (e.begin > covered) {
                throw new BundleException(origin + ": bytes [" + covered + ", " + e.begin + ") of the data section belong to no tensor (next: "
                        + e.name + ")");
            }
            covered = e.end;
            previous = e;
        }
        if (covered != dataLength) {
            throw new BundleException(origin + ": data section is " + dataLength + " bytes but the tensors cover only " + covered
                    + " (trailing bytes)");
        }
    }

    private static float[] decode(ByteBuffer buf, int dataStart, Entry e) {
        int count = (int) ((e.end - e.begin) / e.dtype.bytes);
        float[] out = new float[count];
        ByteBuffer slice = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        slice.position(dataStart + (int) e.begin);
        switch (e.dtype) {
            case F32 -> slice.asFloatBuffer().get(out, 0, count);
            case I64 -> {
                var longs = slice.asLongBuffer();
                for (int i = 0; i < count; i++) {
                    out[i] = longs.get(i);
                }
            }
            default -> throw new AssertionError(e.dtype);
        }
        return out;
    }

    /**
     * Serialises tensors as a safetensors file: {@code F32}, in the map's iteration order, contiguous.
     * Each tensor is stored under its map key (pass a sorted map for a canonical file).
     *
     * @param tensors the tensors by name; no name may be {@value #METADATA}
     * @param metadata strings stored under {@value #METADATA}, omitted when empty
     * @return the file's bytes
     * @throws IllegalArgumentException if a name is {@value #METADATA} or the file would exceed 2 GiB
     */
    public static byte[] toBytes(Map<String, Tensor> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(metadata, "metadata");
        StringWriter sw = new StringWriter();
        long offset = 0;
        try (JsonWriter w = new JsonWriter(sw)) {
            w.beginObject();
            if (!metadata.isEmpty()) {
                w.name(METADATA).beginObject();
                for (Map.Entry<String, String> m : metadata.entrySet()) {
                    w.name(Objects.requireNonNull(m.getKey(), "metadata key"))
                            .value(Objects.requireNonNull(m.getValue(), "metadata value of " + m.getKey()));
                }
                w.endObject();
            }
            for (Map.Entry<String, Tensor> t : tensors.entrySet()) {
                String name = Objects.requireNonNull(t.getKey(), "tensor name");
                Tensor tensor = Objects.requireNonNull(t.getValue(), "tensor " + name);
                if (name.equals(METADATA)) {
                    throw new IllegalArgumentException("a tensor cannot be named " + METADATA);
                }
                long bytes = 4L * tensor.size();
                w.name(name).beginObject();
                w.name("dtype").value(DType.F32.name());
                w.name("shape").beginArray();
                for (int d : tensor.shape()) {
                    w.value(d);
                }
                w.endArray();
                w.name("data_offsets").beginArray().value(offset).value(offset + bytes).endArray();
                w.endObject();
                offset += bytes;
            }
            w.endObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        byte[] header = sw.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) & ~7;
        long total = HEADER_LENGTH_BYTES + (long) padded + offset;
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("safetensors file of " + total + " bytes is too large (limit 2 GiB)");
        }
        ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded);
        out.put(header);
        for (int i = header.length; i < padded; i++) {
            out.put((byte) ' ');
        }
        for (Tensor t : tensors.values()) {
            out.asFloatBuffer().put(t.data());
            out.position(out.position() + 4 * t.size());
        }
        return out.array();
    }

    /**
     * Writes tensors as a safetensors file ({@link #toBytes}) atomically: a temp file in the same
     * directory, fsync, then an atomic rename ({@link AtomicFiles#write(Path, byte[])}).
     *
     * @param target the file to create or replace; its directory must exist
     * @param tensors the tensors by name, written in iteration order
     * @param metadata strings stored under {@value #METADATA}
     * @throws org.hope4j.StateException naming {@code target} if it cannot be written
     */
    public static void write(Path target, Map<String, Tensor> tensors, Map<String, String> metadata) {
        AtomicFiles.write(target, toBytes(tensors, metadata));
    }
}
