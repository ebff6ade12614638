package org.hope4j.device.serve;

/**
 * A request the service refuses or cannot carry out: an HTTP status, a stable machine-readable
 * code (clients branch on it; it never changes meaning) and a one-line message for people.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String code;

    public ApiException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    static ApiException notFound(String what) {
        return new ApiException(404, "not_found", what);
    }

    static ApiException badRequest(String code, String message) {
        return new ApiException(400, code, message);
    }
}
