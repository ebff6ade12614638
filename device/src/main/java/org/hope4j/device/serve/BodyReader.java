package org.hope4j.device.serve;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import org.eclipse.jetty.io.Content;

/**
 * Reads a request body without holding a thread while the client is slow: it takes what has arrived, asks
 * Jetty to call it back when more does ({@link Content.Source#demand}) and returns its thread meanwhile, so
 * clients that trickle their bodies (or stop sending) cannot take every request thread from the others.
 * The body is handed on in blocks of at most {@code blockSize} bytes, each on the thread that completed it,
 * which may then work (learn) before the next byte is read. At most {@code maxBody} bytes are accepted.
 */
final class BodyReader implements Runnable {
    /** What receives the body. Exceptions thrown here end the reading and go to {@link #failed}. */
    interface Sink {
        /** The next {@code n} bytes of the body in {@code block[0..n)}; the array is reused after this returns. */
        void block(byte[] block, int n) throws Exception;

        /** The body ended, after its last block. */
        void end() throws Exception;

        /** The body could not be read (the client went away, too large) or a block or the end failed; called once. */
        void failed(Throwable failure);
    }

    private final Content.Source source;
    private final byte[] buf;
    private final long maxBody;
    private final Sink sink;
    private int fill;
    private long seen;

    private BodyReader(Content.Source source, int blockSize, long maxBody, Sink sink) {
        this.source = source;
        this.buf = new byte[blockSize];
        this.maxBody = maxBody;
        this.sink = sink;
    }

    /** Starts reading {@code source} into {@code sink}; returns when it has to wait for the client (or is done). */
    static void read(Content.Source source, int blockSize, long maxBody, Sink sink) {
        new BodyReader(source, blockSize, maxBody, sink).run();
    }

    /** Reads the whole body (at most {@code maxBody} bytes), then hands it to {@code whole} on the thread that read its end. */
    static void readAll(Content.Source source, long maxBody, Whole whole) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        read(source, 1 << 16, maxBody, new Sink() {
            @Override
            public void block(byte[] block, int n) {
                all.write(block, 0, n);
            }

            @Override
            public void end() throws Exception {
                whole.body(all.toByteArray());
            }

            @Override
            public void failed(Throwable failure) {
                whole.failed(failure);
            }
        });
    }

    /** What receives a whole body. */
    interface Whole {
        void body(byte[] body) throws Exception;

        void failed(Throwable failure);
    }

    @Override
    public void run() {
        while (true) {
            Content.Chunk chunk = source.read();
            if (chunk == null) {
                source.demand(this); // nothing yet: give the thread back, come back when bytes arrive
                return;
            }
            if (Content.Chunk.isFailure(chunk)) {
                sink.failed(chunk.getFailure());
                return;
            }
            boolean last = chunk.isLast();
            try {
                ByteBuffer b = chunk.getByteBuffer();
                while (b.hasRemaining()) {
                    int k = Math.min(b.remaining(), buf.length - fill);
                    if ((seen += k) > maxBody) {
                        throw ApiHandler.tooLarge(maxBody, seen);
                    }
                    b.get(buf, fill, k);
                    fill += k;
                    if (fill == buf.length) {
                        fill = 0;
                        sink.block(buf, buf.length);
                    }
                }
            } catch (Throwable t) {
                chunk.release();
                sink.failed(t);
                return;
            }
            chunk.release();
            if (last) {
                try {
                    if (fill > 0) {
                        int n = fill;
                        fill = 0;
                        sink.block(buf, n);
                    }
                    sink.end();
                } catch (Throwable t) {
                    sink.failed(t);
                }
                return;
            }
        }
    }
}
