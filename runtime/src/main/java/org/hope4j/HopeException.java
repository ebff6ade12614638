package org.hope4j;

/**
 * The root of Hope4J's exceptions. All of them are unchecked; a subclass exists only where a caller
 * can act differently on it ({@link BundleException}, {@link StateException},
 * {@link BackendUnavailableException}, {@link BackendException}).
 *
 * <p>Messages name the file, field, expected and found values, for example
 * {@code manifest.json: levels[2].period must be a multiple of levels[1].period (64), found 100}.
 */
public class HopeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a message.
     *
     * @param message what went wrong, naming the file or object, field, expected and found values
     */
    public HopeException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and the exception that caused it.
     *
     * @param message what went wrong, naming the file or object, field, expected and found values
     * @param cause the underlying exception, or {@code null}
     */
    public HopeException(String message, Throwable cause) {
        super(message, cause);
    }
}
