package org.hope4j.engine.cpu;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas;
import org.hope4j.level.Blas;

/** {@link Blas} through OpenBLAS (JavaCPP presets); float arrays are pinned, not copied. */
final class OpenBlas implements Blas {
    private final String kernel;

    private OpenBlas(String kernel) {
        this.kernel = kernel;
    }

    /** Loads OpenBLAS and sets its thread count; throws (with the loader's reason) where it cannot load. */
    static OpenBlas load(int threads) {
        Loader.load(openblas.class);
        openblas.blas_set_num_threads(threads);
        String forced = System.getenv("OPENBLAS_CORETYPE");
        return new OpenBlas("OpenBLAS (JavaCPP), " + threads + " thread(s), kernel "
                + (forced != null ? forced + " (forced by OPENBLAS_CORETYPE)" : "chosen at run time for this CPU (build: " + openblas.OPENBLAS_CHAR_CORENAME + ")"));
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c) {
        openblas.cblas_sgemm(openblas.CblasRowMajor, transA ? openblas.CblasTrans : openblas.CblasNoTrans,
                transB ? openblas.CblasTrans : openblas.CblasNoTrans, m, n, k, alpha, a, transA ? m : k, b, transB ? k : n, beta, c, n);
    }

    @Override
    public String describe() {
        return kernel;
    }
}
