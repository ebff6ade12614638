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
    public BackendInfo {
        status = Map.copyOf(status);
    }
}
