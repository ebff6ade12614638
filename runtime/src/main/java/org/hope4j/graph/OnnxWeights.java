package org.hope4j.graph;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The float initializers of an ONNX model and, in graph order, which node takes which of them: what {@link RowMixers}
 * needs to compute a frozen segment itself. A reader of the few fields of ONNX's protobuf messages it uses (ModelProto
 * graph 7; GraphProto node 1, initializer 5; NodeProto input 1, op_type 4; TensorProto dims 1, data_type 2,
 * float_data 4, name 8, raw_data 9); every other field is skipped by its wire type.
 */
final class OnnxWeights {
    /** A float initializer: name, dims, values. */
    record Init(String name, long[] dims, float[] data) {
    }

    /** A node that takes initializers: its op type and the initializers among its inputs, in input order. */
    record Use(String op, List<Init> inits) {
    }

    private final Map<String, Init> inits = new LinkedHashMap<>();
    private final List<Use> uses = new ArrayList<>();

    private OnnxWeights() {
    }

    /**
     * Reads a serialized ONNX model.
     *
     * @param model the file's bytes
     * @param what the file, for messages
     * @return its float initializers and the nodes that use them
     * @throws IllegalArgumentException naming {@code what} if the bytes are not a readable ONNX model
     */
    static OnnxWeights read(byte[] model, String what) {
        OnnxWeights w = new OnnxWeights();
        try {
            Wire m = new Wire(model, 0, model.length);
            int gFrom = -1, gTo = -1;
            while (m.more()) {
                int tag = m.varint32();
                if (tag >>> 3 == 7 && (tag & 7) == 2) {
                    int n = m.varint32();
                    gFrom = m.at;
                    gTo = m.at + n;
                    m.at = gTo;
                } else {
                    m.skip(tag);
                }
            }
            if (gFrom < 0) {
                throw new IllegalArgumentException("no graph");
            }
            List<int[]> nodes = new ArrayList<>();
            Wire g = new Wire(model, gFrom, gTo);
            while (g.more()) {
                int tag = g.varint32();
                int field = tag >>> 3;
                if ((field == 1 || field == 5) && (tag & 7) == 2) {
                    int n = g.varint32();
                    if (field == 1) {
                        nodes.add(new int[] {g.at, g.at + n});
                    } else {
                        Init i = tensor(model, g.at, g.at + n);
                        if (i != null) {
                            w.inits.put(i.name(), i);
                        }
                    }
                    g.at += n;
                } else {
                    g.skip(tag);
                }
            }
            for (int[] nd : nodes) {
                Wire n = new Wire(model, nd[0], nd[1]);
                List<Init> used = new ArrayList<>();
                String op = "";
                while (n.more()) {
                    int tag = n.varint32();
                    int field = tag >>> 3;
                    if ((field == 1 || field == 4) && (tag & 7) == 2) {
                        String s = n.string();
                        if (field == 4) {
                            op = s;
                        } else if (w.inits.containsKey(s)) {
                            used.add(w.inits.get(s));
                        }
                    } else {
                        n.skip(tag);
                    }
                }
                if (!used.isEmpty()) {
                    w.uses.add(new Use(op, used));
                }
            }
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(what + " is not a readable ONNX model: " + e.getMessage(), e);
        }
        return w;
    }

    private static Init tensor(byte[] b, int from, int to) {
        Wire t = new Wire(b, from, to);
        List<Long> dims = new ArrayList<>();
        int type = 0;
        String name = "";
        float[] data = null;
        while (t.more()) {
            int tag = t.varint32();
            int field = tag >>> 3, wt = tag & 7;
            if (field == 1 && wt == 0) {
                dims.add(t.varint64());
            } else if (field == 1 && wt == 2) {
                int len = t.varint32(); // first: "t.at + t.varint32()" would read at before the varint moves it
                int end = t.at + len;
                while (t.at < end) {
                    dims.add(t.varint64());
                }
            } else if (field == 2 && wt == 0) {
                type = t.varint32();
            } else if (field == 4 && wt == 2) {
                int n = t.varint32();
                data = floats(b, t.at, n);
                t.at += n;
            } else if (field == 8 && wt == 2) {
                name = t.string();
            } else if (field == 9 && wt == 2) {
                int n = t.varint32();
                data = floats(b, t.at, n);
                t.at += n;
            } else {
                t.skip(tag);
            }
        }
        if (type != 1 || data == null) {
            return null; // not a float tensor with inline data: not one of the weights
        }
        long[] d = dims.stream().mapToLong(Long::longValue).toArray();
        long count = 1;
        for (long v : d) {
            count *= v;
        }
        if (count != data.length) {
            throw new IllegalArgumentException("initializer " + name + " has " + data.length + " values for dims " + dims);
        }
        return new Init(name, d, data);
    }

    private static float[] floats(byte[] b, int at, int n) {
        if (n % 4 != 0) {
            throw new IllegalArgumentException("float data of " + n + " bytes");
        }
        float[] f = new float[n / 4];
        ByteBuffer.wrap(b, at, n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    /**
     * The nodes of one op type that take initializers, in graph order.
     *
     * @param op an ONNX op type, e.g. "MatMul"
     * @return for each such node its initializers, in input order
     */
    List<Init> usedBy(String op) {
        List<Init> r = new ArrayList<>();
        for (Use u : uses) {
            if (u.op().equals(op)) {
                r.addAll(u.inits());
            }
        }
        return r;
    }

    /** A cursor over a protobuf message. */
    private static final class Wire {
        final byte[] b;
        int at;
        final int end;

        Wire(byte[] b, int from, int to) {
            if (from < 0 || to > b.length || from > to) {
                throw new IllegalArgumentException("a message runs past the end of the file");
            }
            this.b = b;
            this.at = from;
            this.end = to;
        }

        boolean more() {
            return at < end;
        }

        long varint64() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (at >= end) {
                    throw new IllegalArgumentException("a varint runs past its message");
                }
                byte x = b[at++];
                v |= (long) (x & 0x7f) << shift;
                if ((x & 0x80) == 0) {
                    return v;
                }
            }
            throw new IllegalArgumentException("a varint longer than 10 bytes");
        }

        int varint32() {
            long v = varint64();
            if (v < 0 || v > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("a length or tag out of range: " + v);
            }
            return (int) v;
        }

        String string() {
            int n = varint32();
            if (at + n > end) {
                throw new IllegalArgumentException("a string runs past its message");
            }
            String s = new String(b, at, n, StandardCharsets.UTF_8);
            at += n;
            return s;
        }

        void skip(int tag) {
            switch (tag & 7) {
                case 0 -> varint64();
                case 1 -> at += 8;
                case 2 -> {
                    int n = varint32();
                    at += n;
                }
                case 5 -> at += 4;
                default -> throw new IllegalArgumentException("wire type " + (tag & 7) + " at byte " + at);
            }
            if (at > end) {
                throw new IllegalArgumentException("a field runs past its message");
            }
        }
    }
}
