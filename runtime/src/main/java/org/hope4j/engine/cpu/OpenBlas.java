package org.hope4j.engine.cpu;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.hope4j.level.Blas;
import org.hope4j.level.Kernels;

/**
 * {@link Blas} through OpenBLAS (JavaCPP presets); each product's operands are copied into native buffers kept per thread
 * (only the part the product uses), and C back out. Only the BLAS part is
 * loaded ({@code openblas_nolapack}): the LAPACK bindings ({@code libjniopenblas}, 24 MB) are never mapped.
 */
final class OpenBlas implements Blas {
    private final String kernel;

    private OpenBlas(String kernel) {
        this.kernel = kernel;
    }

    /** Loads OpenBLAS and sets its thread count; throws (with the loader's reason) where it cannot load. */
    static OpenBlas load(int threads) {
        Loader.load(openblas_nolapack.class);
        openblas_nolapack.blas_set_num_threads(threads);
        String forced = System.getenv("OPENBLAS_CORETYPE");
        return new OpenBlas("OpenBLAS (JavaCPP), " + threads + " thread(s), kernel "
                + (forced != null ? forced + " (forced by OPENBLAS_CORETYPE)" : "chosen at run time for this CPU (build: " + openblas_nolapack.OPENBLAS_CHAR_CORENAME + ")"));
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c) {
        if (m == 1 && !transA && n <= ROW_MAX) {
            row(transB, n, k, alpha, a, b, beta, c);
            return;
        }
        Operands p = OPERANDS.get();
        FloatPointer pa = p.load(0, a, m * k, true);
        FloatPointer pb = p.load(1, b, k * n, true);
        FloatPointer pc = p.load(2, c, m * n, beta != 0f);
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, transA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                transB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans, m, n, k, alpha, pa, transA ? m : k, pb, transB ? k : n, beta, pc, n);
        pc.get(c, 0, m * n);
    }

    /**
     * B copied once into native memory (and kept, not copied, for one-row products); each product copies A in and C out. A product of one row runs in Java
     * ({@link Kernels#gemv}, as {@link #sgemm} does): the copies would outweigh OpenBLAS's speed there.
     */
    @Override
    public Held hold(float[] b, int k, int n) {
        float[] w = b; // kept for the one-row products in Java
        FloatPointer native_ = new FloatPointer((long) k * n);
        native_.put(b, 0, k * n);
        return (a, m, c, co) -> {
            if (m == 1) { // the contract of hold: one row in Java
                KERNELS.gemv(a, 0, k, w, n, c, co);
                return;
            }
            Operands p = OPERANDS.get();
            FloatPointer pa = p.load(0, a, m * k, true);
            FloatPointer pc = p.load(2, c, m * n, false);
            openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans, openblas_nolapack.CblasNoTrans,
                    m, n, k, 1f, pa, k, native_, n, 0f, pc, n);
            pc.get(c, co, m * n);
        };
    }

    /**
     * Native copies of one product's operands, per thread, grown as needed and kept. JavaCPP's {@code float[]} overloads
     * copy each whole array into a fresh native buffer and back out again (inputs included: {@code ReleaseFloatArrayElements}
     * with mode 0), and a buffer sized for the longest span is copied whole for a short one; these copy the operands' used
     * part in, and only C out (JMH: a 64 x 128 x 128 product 19.7 -> 16.9 us, README "Performance").
     */
    private static final ThreadLocal<Operands> OPERANDS = ThreadLocal.withInitial(Operands::new);

    private static final class Operands {
        /** A, B and C. */
        private final FloatPointer[] buf = {new FloatPointer(4096L), new FloatPointer(4096L), new FloatPointer(4096L)};

        /** Operand {@code i}'s buffer, of at least {@code n} floats, holding the first {@code n} of {@code from} when {@code read}. */
        FloatPointer load(int i, float[] from, int n, boolean read) {
            FloatPointer p = buf[i];
            if (p.capacity() < n) {
                long grown = Math.max(n, 2 * p.capacity());
                p.close();
                p = new FloatPointer(grown);
                buf[i] = p;
            }
            p.position(0);
            return read ? p.put(from, 0, n) : p;
        }
    }

    /** Outputs of a one-row product done in Java (a row of decoding): past it, the copies are worth OpenBLAS's speed. */
    private static final int ROW_MAX = 4096;
    private static final Kernels KERNELS = Kernels.active();
    /** Scratch of one row's product, per thread (one OpenBlas serves every engine of the process). */
    private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[256]);

    /**
     * One row, {@code c = alpha a op(B) + beta c}, in Java: OpenBLAS's one-row product of a 128 x 128 matrix would copy
     * B's 64 KB into native memory for 16 K multiply-adds.
     */
    private void row(boolean transB, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c) {
        float[] acc = ROW.get();
        if (acc.length < n) {
            acc = new float[n];
            ROW.set(acc);
        }
        if (transB) {
            KERNELS.gemvT(a, 0, k, b, n, acc, 0);
        } else {
            KERNELS.gemv(a, 0, k, b, n, acc, 0);
        }
        for (int j = 0; j < n; j++) {
            float v = alpha == 1f ? acc[j] : alpha * acc[j];
            c[j] = beta == 0f ? v : v + beta * c[j];
        }
    }

    @Override
    public String describe() {
        return kernel;
    }
}
