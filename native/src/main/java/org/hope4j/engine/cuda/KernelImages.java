package org.hope4j.engine.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * Which GPUs the kernels of this library can run on, from the architectures it was built with
 * ({@code native/build-kernels.sh}: SASS for several compute capabilities, PTX for the oldest). A
 * SASS image for sm_XY runs on devices of major version X with minor version at least Y; a PTX image
 * for compute_XY is compiled by the driver for any device of capability XY or newer. The probe asks
 * this before it trusts a device, so {@code auto} falls back to the CPU on a GPU the library cannot
 * serve instead of failing at the first launch with {@code cudaErrorNoKernelImageForDevice}; the
 * driver's own answer ({@code cudaFuncGetAttributes}) then has the last word.
 */
final class KernelImages {
    private final List<Integer> sass;
    private final int ptx;

    private KernelImages(List<Integer> sass, int ptx) {
        this.sass = List.copyOf(sass);
        this.ptx = ptx;
    }

    /** Parses the library's "SASS;PTX" string, e.g. {@code "75 80 86 87 89 90;75"} (PTX may be empty: none). */
    static KernelImages parse(String built) {
        int semi = built.indexOf(';');
        if (semi < 0) {
            throw new IllegalArgumentException("kernel architectures \"" + built + "\": expected \"SASS;PTX\"");
        }
        List<Integer> sass = new ArrayList<>();
        for (String a : built.substring(0, semi).trim().split("\\s+")) {
            if (!a.isEmpty()) {
                sass.add(capability(a, built));
            }
        }
        String p = built.substring(semi + 1).trim();
        return new KernelImages(sass, p.isEmpty() ? -1 : capability(p, built));
    }

    private static int capability(String a, String built) {
        try {
            int cc = Integer.parseInt(a);
            if (cc < 10 || cc > 999) {
                throw new NumberFormatException();
            }
            return cc;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("kernel architectures \"" + built + "\": \"" + a + "\" is not a compute capability");
        }
    }

    private static int major(int cc) {
        return cc / 10;
    }

    /** The image a device of capability {@code cc} (major * 10 + minor) would run, or null when none fits. */
    String imageFor(int cc) {
        int best = -1;
        for (int s : sass) {
            if (major(s) == major(cc) && s <= cc && s > best) {
                best = s;
            }
        }
        if (best >= 0) {
            return "sm_" + best + " SASS";
        }
        if (ptx >= 0 && cc >= ptx) {
            return "PTX compute_" + ptx + ", compiled by the driver for sm_" + cc;
        }
        return null;
    }

    /** One line naming what the library carries. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("SASS");
        for (int s : sass) {
            b.append(" sm_").append(s);
        }
        return b.append(ptx >= 0 ? " and PTX compute_" + ptx : " and no PTX").toString();
    }
}
