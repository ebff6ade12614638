package org.hope4j;

/**
 * Saved learner state cannot be written or read back: an I/O failure, a corrupt or truncated state
 * file, a format version this runtime does not read, or state that belongs to a different bundle.
 * The learner's current state is left as it was.
 */
public class StateException extends HopeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a message.
     *
     * @param message what went wrong, naming the file or object, field, expected and found values
     */
    public StateException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and the exception that caused it.
     *
     * @param message what went wrong, naming the file or object, field, expected and found values
     * @param cause the underlying exception, or {@code null}
     */
    public StateException(String message, Throwable cause) {
        super(message, cause);
    }
}
