package org.hope4j.engine.cpu;

import java.util.Map;
import org.hope4j.bundle.Tensor;
import org.hope4j.engine.Backend;
import org.hope4j.engine.Engine;
import org.hope4j.engine.EngineSpec;
import org.hope4j.level.Blas;

/**
 * The always-present CPU backend. Matrix products go through OpenBLAS (JavaCPP) on
 * {@code hope4j.cpu.threads} threads (default 1); if OpenBLAS cannot load, or
 * {@code -Dhope4j.cpu.blas=java}, through plain Java loops, with one log line saying why.
 */
public final class CpuBackend implements Backend {
    private static final System.Logger LOG = System.getLogger(CpuBackend.class.getName());
    private static Blas blas;

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public void probe() {
        blas();
    }

    static synchronized Blas blas() {
        if (blas == null) {
            String want = System.getProperty("hope4j.cpu.blas", "openblas");
            if (want.equals("java")) {
                blas = new JavaBlas();
            } else {
                try {
                    blas = OpenBlas.load(Integer.getInteger("hope4j.cpu.threads", 1));
                } catch (Throwable t) {
                    LOG.log(System.Logger.Level.WARNING, "OpenBLAS unavailable, using plain Java matrix products (slower): {0}", t.toString());
                    blas = new JavaBlas();
                }
            }
        }
        return blas;
    }

    /**
     * The matrix products the CPU engines run on, shared with the frozen mixers in Java ({@code org.hope4j.graph}).
     *
     * @return OpenBLAS, or plain Java loops where it cannot load or {@code -Dhope4j.cpu.blas=java} asks for them
     */
    public static Blas products() {
        return blas();
    }

    /**
     * Whether {@link #products()} is OpenBLAS, not the plain-Java fallback (about 4x slower).
     *
     * @return true if the products run on OpenBLAS
     */
    public static boolean fastProducts() {
        return !(blas() instanceof JavaBlas);
    }

    @Override
    public Engine open(EngineSpec spec, Map<String, Tensor> plastic) {
        return new CpuEngine(spec, plastic, blas());
    }

    /**
     * An engine on the plain-Java BLAS (for tests comparing the two).
     *
     * @param spec shapes, periods and rates of the model's plastic levels
     * @param plastic the bundle's plastic tensors by name (copied); a missing or misshapen one is a
     *     {@link org.hope4j.StateException}
     * @return a new CPU engine whose matrix products run in plain Java loops, whatever {@code hope4j.cpu.blas} says
     */
    public static Engine openJava(EngineSpec spec, Map<String, Tensor> plastic) {
        return new CpuEngine(spec, plastic, new JavaBlas());
    }

    @Override
    public String describe() {
        return "cpu (" + blas().describe() + "; element-wise: " + org.hope4j.level.Kernels.active().describe() + ")";
    }
}
