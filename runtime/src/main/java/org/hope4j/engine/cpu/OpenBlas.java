package org.hope4j.engine.cpu;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.hope4j.level.Blas;

/**
 * {@link Blas} through OpenBLAS (JavaCPP presets); float arrays are pinned, not copied. Only the BLAS part is
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
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, transA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                transB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans, m, n, k, alpha, a, transA ? m : k, b, transB ? k : n, beta, c, n);
    }

    @Override
    public String describe() {
        return kernel;
    }
}
