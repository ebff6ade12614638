package org.hope4j.learner;

import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.hope4j.Sampling;
import org.hope4j.level.EpisodicLevel;

/**
 * The three ways a learner reads bytes, over its {@link HopeStream} and episodic level E: learning
 * ({@code observe}), measuring without changing anything ({@code score}), and continuing a prompt
 * ({@code generate}). What changes and what is put back is decided here; the caller holds the lock.
 * Bits are returned as {@code {bits, scored bytes}}, as {@link HopeStream#read} does.
 */
public final class Reader {
    private final HopeStream stream;
    private final EpisodicLevel episodic;

    /** @param episodic the episodic level mixed into every prediction, or null */
    public Reader(HopeStream stream, EpisodicLevel episodic) {
        this.stream = stream;
        this.episodic = episodic;
        stream.setEpisodic(episodic);
    }

    /**
     * Reads {@code data[off, off+len)} with the levels of {@code l} learning; a frozen E
     * ({@code keepEpisodic}) predicts and learns within the call, then returns to what it held.
     */
    public double[] learn(byte[] data, int off, int len, Learning l, boolean keepEpisodic) {
        if (!keepEpisodic || episodic == null) {
            return stream.read(data, off, len, l, null);
        }
        return keepingEpisodic(() -> stream.read(data, off, len, l, null));
    }

    /**
     * Bits of {@code data} with the CMS levels fixed and L0 reading in context ({@code l0}); the
     * stream and E end exactly as they began.
     */
    public double[] score(byte[] data, boolean l0) {
        HopeStream.Snapshot before = stream.snapshot();
        try {
            return keepingEpisodic(() -> stream.read(data, 0, data.length, new Learning(l0, false, false), null));
        } finally {
            stream.restore(before);
        }
    }

    /**
     * Continues {@code prompt} by {@code maxBytes} bytes read in context (L0 if {@code l0}) without
     * learning, handing each byte to {@code sink} (if not null) as soon as it is chosen; the stream
     * and E end exactly as they began. With E the mixture chooses bit by bit (at the sampling's
     * temperature), else {@link Sampling#pick} chooses from the neural logits.
     */
    public byte[] generate(byte[] prompt, int maxBytes, boolean l0, Sampling sampling, Consumer<byte[]> sink) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must be >= 0, found " + maxBytes);
        }
        HopeStream.Snapshot before = stream.snapshot();
        Learning l = new Learning(l0, false, false);
        Random rnd = new Random(sampling.seed());
        byte[] out = new byte[maxBytes];
        try {
            return keepingEpisodic(() -> {
                if (prompt.length > 0) {
                    stream.read(prompt, 0, prompt.length, l, null);
                }
                float[] logits = stream.lastLogits();
                byte[] one = new byte[1];
                for (int i = 0; i < maxBytes; i++) {
                    int next = logits == null ? ' ' : episodic != null ? episodic.sample(logits, 0, sampling.temperature(), rnd) : sampling.pick(logits, rnd);
                    out[i] = (byte) next;
                    one[0] = (byte) next;
                    if (sink != null) {
                        sink.accept(one.clone());
                    }
                    // E learned the byte as it chose it: the stream reads it without coding it through E again
                    stream.setEpisodic(null);
                    try {
                        stream.read(one, 0, 1, l, null);
                    } finally {
                        stream.setEpisodic(episodic);
                    }
                    logits = stream.lastLogits();
                }
                return out;
            });
        } finally {
            stream.restore(before);
        }
    }

    /** Runs {@code body} so that the episodic level ends as it began. */
    private <T> T keepingEpisodic(Supplier<T> body) {
        if (episodic == null) {
            return body.get();
        }
        episodic.begin();
        try {
            return body.get();
        } finally {
            episodic.rollback();
        }
    }
}
