package org.hope4j;

/**
 * A compute backend that was asked for explicitly (for example {@code cuda}) cannot be used on this
 * machine: its native library, driver or device is missing, or a property disabled it. The message
 * says why. Automatic selection never throws this; it falls back to {@code cpu} instead.
 */
public class BackendUnavailableException extends HopeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a message.
     *
     * @param message what went wrong, naming the file or object, field, expected and found values
     */
    public BackendUnavailableException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and the exception that caused it.
     *
     * @param message what went wrong, naming the file or object, field, expected and found values
     * @param cause the underlying exception, or {@code null}
     */
    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
