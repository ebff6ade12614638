package org.hope4j;

/**
 * A backend or ONNX Runtime failed while running: a native call returned an error, a session could
 * not be created, or an out-of-memory condition on the device. The message names the operation
 * (kernel, segment) and the shapes involved.
 */
public class BackendException extends HopeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a message.
     *
     * @param message what went wrong, naming the file or object, field, expected and found values
     */
    public BackendException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and the exception that caused it.
     *
     * @param message what went wrong, naming the file or object, field, expected and found values
     * @param cause the underlying exception, or {@code null}
     */
    public BackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
