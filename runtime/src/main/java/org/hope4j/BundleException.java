package org.hope4j;

/**
 * A model bundle (manifest, ONNX segments, safetensors files) is missing, unreadable, corrupt or
 * inconsistent: a checksum does not match, a manifest field is invalid, a tensor has the wrong shape.
 * The caller can act by pointing at another bundle or re-exporting it; retrying will not help.
 */
public class BundleException extends HopeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a message.
     *
     * @param message what went wrong, naming the file or object, field, expected and found values
     */
    public BundleException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and the exception that caused it.
     *
     * @param message what went wrong, naming the file or object, field, expected and found values
     * @param cause the underlying exception, or {@code null}
     */
    public BundleException(String message, Throwable cause) {
        super(message, cause);
    }
}
