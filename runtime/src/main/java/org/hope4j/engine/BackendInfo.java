package org.hope4j.engine;

import java.util.Map;

/**
 * Which backend was selected and why the others were not.
 *
 * @param selected name of the backend in use
 * @param description its one-line description
 * @param status per backend name: "selected", "available" or "unavailable: reason"
 */
public record BackendInfo(String selected, String description, Map<String, String> status) {
    /**
     * Copies {@code status} into an unmodifiable map.
     *
     * @param selected name of the backend in use
     * @param description its one-line description
     * @param status per backend name: "selected", "available", "not requested" or "unavailable: reason"; not null,
     *     and null keys or values are a {@link NullPointerException}
     */
    public BackendInfo {
        status = Map.copyOf(status);
    }
}
