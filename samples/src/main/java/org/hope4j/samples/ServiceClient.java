package org.hope4j.samples;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A client of {@code hope4j serve} over its Unix domain socket, standard library only (the JDK's
 * HTTP client has no Unix-socket transport): one HTTP/1.1 request per connection.
 *
 * <pre>{@code
 * ServiceClient c = new ServiceClient(Path.of(System.getenv("XDG_RUNTIME_DIR"), "hope4j", "hope4j.sock"));
 * c.createProfile("me");
 * c.observe("me", "Monday: water the tomatoes.\n");
 * System.out.println(c.generate("me", "Monday:", 40));
 * }</pre>
 */
public final class ServiceClient {
    /** One answer: the status, the headers (names lower-cased) and the body. */
    public record Response(int status, Map<String, String> headers, byte[] body) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The body, or an {@link IOException} naming the service's error code and message for a status >= 400. */
        public Response ok() throws IOException {
            if (status >= 400) {
                throw new IOException("hope4j serve answered " + status + ": " + text().strip());
            }
            return this;
        }
    }

    private final Path socket;

    public ServiceClient(Path socket) {
        this.socket = socket;
    }

    public void createProfile(String profile) throws IOException {
        request("PUT", "/v1/profiles/" + profile, null).ok();
    }

    /** Learns {@code text}; returns the service's JSON ({@code bits_per_byte} is the prequential code length). */
    public String observe(String profile, String text) throws IOException {
        return request("POST", "/v1/profiles/" + profile + "/observe", text.getBytes(StandardCharsets.UTF_8)).ok().text();
    }

    /** Measures {@code text} without learning it. */
    public String score(String profile, String text) throws IOException {
        return request("POST", "/v1/profiles/" + profile + "/score", text.getBytes(StandardCharsets.UTF_8)).ok().text();
    }

    /** Continues {@code prompt} by {@code bytes} bytes (greedy-ish defaults of the service; seed 0). */
    public String generate(String profile, String prompt, int bytes) throws IOException {
        return request("POST", "/v1/profiles/" + profile + "/generate?bytes=" + bytes, prompt.getBytes(StandardCharsets.UTF_8)).ok().text();
    }

    /** Takes a named snapshot: {@link #undo} returns to it. */
    public void snapshot(String profile, String name) throws IOException {
        request("PUT", "/v1/profiles/" + profile + "/snapshots/" + name, null).ok();
    }

    /** Takes back everything the profile learned since the snapshot {@code name}. */
    public void undo(String profile, String name) throws IOException {
        request("POST", "/v1/profiles/" + profile + "/snapshots/" + name + "/restore", null).ok();
    }

    public String status(String profile) throws IOException {
        return request("GET", "/v1/profiles/" + profile, null).ok().text();
    }

    static String query(Map<String, ?> params) {
        StringBuilder sb = new StringBuilder();
        params.forEach((k, v) -> sb.append(sb.length() == 0 ? "?" : "&").append(k).append('=')
                .append(URLEncoder.encode(String.valueOf(v), StandardCharsets.UTF_8)));
        return sb.toString();
    }

    /** One request; {@code body} may be null. Any status comes back as a {@link Response}. */
    public Response request(String method, String pathAndQuery, byte[] body) throws IOException {
        return request(method, pathAndQuery, body, Map.of());
    }

    public Response request(String method, String pathAndQuery, byte[] body, Map<String, String> headers) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            StringBuilder head = new StringBuilder();
            head.append(method).append(' ').append(pathAndQuery).append(" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
            headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            head.append("Content-Length: ").append(body == null ? 0 : body.length).append("\r\n\r\n");
            write(ch, head.toString().getBytes(StandardCharsets.US_ASCII));
            if (body != null) {
                write(ch, body);
            }
            return read(Channels.newInputStream(ch));
        }
    }

    private static void write(SocketChannel ch, byte[] b) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b);
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Parses one HTTP/1.1 response (Content-Length, chunked, or to the end of the connection). */
    static Response read(InputStream in) throws IOException {
        String status = line(in);
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP response: " + status);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
            int c = h.indexOf(':');
            if (c > 0) {
                headers.put(h.substring(0, c).trim().toLowerCase(Locale.ROOT), h.substring(c + 1).trim());
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            for (;;) {
                String size = line(in);
                int semi = size.indexOf(';');
                int n = Integer.parseInt((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
                if (n == 0) {
                    while (!line(in).isEmpty()) {
                        // trailers
                    }
                    break;
                }
                body.write(in.readNBytes(n));
                line(in);
            }
        } else if (headers.containsKey("content-length")) {
            body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
        } else {
            in.transferTo(body);
        }
        return new Response(Integer.parseInt(parts[1]), headers, body.toByteArray());
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (;;) {
            int c = in.read();
            if (c < 0) {
                if (b.size() == 0) {
                    throw new EOFException("the service closed the connection");
                }
                break;
            }
            if (c == '\n') {
                break;
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }
}
