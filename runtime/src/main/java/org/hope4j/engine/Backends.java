package org.hope4j.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.hope4j.BackendUnavailableException;

/**
 * Finds backends with {@link ServiceLoader}, ranks and probes them. "auto" takes the best available
 * one and falls back quietly (one log line with the reason); an explicit request that cannot be met
 * fails loudly. The property {@code hope4j.backend.NAME.disabled=true} is a kill switch.
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger(Backends.class.getName());

    private Backends() {
    }

    /**
     * The selected backend and the report of every candidate.
     *
     * @param backend the backend that passed its probe, ready to open engines
     * @param info its name and description and the status of every discovered backend
     */
    public record Selection(Backend backend, BackendInfo info) {
    }

    /**
     * Selects {@code requested} ("auto" or a backend name).
     *
     * @param requested "auto" (probe every backend, highest {@link Backend#priority} first, and take the first
     *     that passes) or the exact {@link Backend#name} of one backend; not null
     * @return the chosen backend, with the status of every discovered backend ("selected", "available",
     *     "not requested" or "unavailable: reason")
     * @throws org.hope4j.BackendUnavailableException if no requested backend passes its probe (disabled, failed, or
     *     no backend of that name: the message then lists the known ones), with the probe's failure as the cause
     */
    public static Selection select(String requested) {
        NativeCache.prepare(); // JavaCPP extracts OpenBLAS (and the CUDA engine) into the owner-only cache
        List<Backend> all = new ArrayList<>();
        ServiceLoader.load(Backend.class, Backends.class.getClassLoader()).forEach(all::add);
        all.sort(Comparator.comparingInt(Backend::priority).reversed());
        Map<String, String> status = new LinkedHashMap<>();
        Map<String, Throwable> reasons = new LinkedHashMap<>();
        Backend chosen = null;
        for (Backend b : all) {
            if (Boolean.getBoolean("hope4j.backend." + b.name() + ".disabled")) {
                status.put(b.name(), "unavailable: disabled by -Dhope4j.backend." + b.name() + ".disabled=true");
                reasons.put(b.name(), new IllegalStateException("disabled by property"));
                continue;
            }
            boolean wanted = requested.equals("auto") || requested.equals(b.name());
            if (!wanted) {
                status.put(b.name(), "not requested");
                continue;
            }
            try {
                b.probe();
                if (chosen == null) {
                    chosen = b;
                    status.put(b.name(), "selected");
                } else {
                    status.put(b.name(), "available");
                }
            } catch (Throwable t) {
                status.put(b.name(), "unavailable: " + t.getMessage());
                reasons.put(b.name(), t);
            }
        }
        if (chosen == null) {
            Throwable cause;
            String why = null;
            if (requested.equals("auto")) {
                cause = reasons.values().stream().findFirst().orElse(null);
                if (!status.isEmpty()) {
                    why = "every backend failed: " + String.join("; ", status.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList());
                }
            } else {
                cause = reasons.get(requested);
                if (status.containsKey(requested)) {
                    why = status.get(requested).replaceFirst("^unavailable: ", "");
                }
            }
            String known = String.join(", ", status.keySet());
            throw new BackendUnavailableException("backend '" + requested + "' is unavailable"
                    + (why != null ? ": " + why : " (known backends: " + known + ")"), cause);
        }
        for (Map.Entry<String, String> e : status.entrySet()) {
            if (e.getValue().startsWith("unavailable") && requested.equals("auto")) {
                LOG.log(System.Logger.Level.INFO, "backend {0} not used, falling back to {1}: {2}", e.getKey(), chosen.name(), e.getValue());
            }
        }
        return new Selection(chosen, new BackendInfo(chosen.name(), chosen.describe(), status));
    }
}
