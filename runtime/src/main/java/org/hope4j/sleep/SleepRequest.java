package org.hope4j.sleep;

import java.nio.file.Path;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * One sleep as asked of {@link org.hope4j.Learner#sleep(SleepRequest)}: what it may spend, what it does, what stops
 * it, who hears its progress and where a commit is saved. Immutable; start from {@link #defaults()} or
 * {@link #builder()}.
 *
 * @param budget what the sleep may spend (bytes of experience, consolidation time, overall deadline)
 * @param config what the sleep does (pool size, expert rank, steps, the retention guard's bound, what a commit clears)
 * @param preempted polled during the sleep; returning true stops it, leaving the learner's state as it was
 * @param listener receives the sleep's events (phases and progress) on the sleeping thread
 * @param saveTo the state directory a commit is saved into in the swap's critical section (so what is on disk is what
 *     runs), or {@code null} to save nothing
 */
public record SleepRequest(SleepBudget budget, SleepConfig config, BooleanSupplier preempted, SleepListener listener, Path saveTo) {
    private static final BooleanSupplier NEVER = () -> false;
    private static final SleepListener QUIET = e -> { };

    /**
     * Checks the components.
     *
     * @param budget what the sleep may spend; not null
     * @param config what the sleep does; not null
     * @param preempted polled during the sleep; not null
     * @param listener receives the sleep's events; not null
     * @param saveTo where a commit is saved, or {@code null}
     * @throws NullPointerException naming the component if {@code budget}, {@code config}, {@code preempted} or
     *     {@code listener} is null
     */
    public SleepRequest {
        Objects.requireNonNull(budget, "budget");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(preempted, "preempted");
        Objects.requireNonNull(listener, "listener");
    }

    /**
     * The default sleep: {@link SleepBudget#defaults()}, {@link SleepConfig#defaults()}, never preempted but by the
     * learner's own calls, no listener, nothing saved.
     *
     * @return the default request
     */
    public static SleepRequest defaults() {
        return builder().build();
    }

    /**
     * A builder starting from {@link #defaults()}.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link SleepRequest}; every setter returns this builder. */
    public static final class Builder {
        private SleepBudget budget = SleepBudget.defaults();
        private SleepConfig config = SleepConfig.defaults();
        private BooleanSupplier preempted = NEVER;
        private SleepListener listener = QUIET;
        private Path saveTo;

        private Builder() {
        }

        /**
         * What the sleep may spend.
         *
         * @param value the budget; not null
         * @return this builder
         */
        public Builder budget(SleepBudget value) {
            budget = value;
            return this;
        }

        /**
         * What the sleep does.
         *
         * @param value the configuration; not null
         * @return this builder
         */
        public Builder config(SleepConfig value) {
            config = value;
            return this;
        }

        /**
         * What stops the sleep besides the learner's own calls and {@code close}.
         *
         * @param value polled during the sleep (cheap, from the sleeping thread); true stops it; not null
         * @return this builder
         */
        public Builder preemptedWhen(BooleanSupplier value) {
            preempted = value;
            return this;
        }

        /**
         * Who hears the sleep's events.
         *
         * @param value called on the sleeping thread with each phase and its progress; not null
         * @return this builder
         */
        public Builder listener(SleepListener value) {
            listener = value;
            return this;
        }

        /**
         * Where a commit is saved, in the swap's critical section.
         *
         * @param dir the state directory, or {@code null} to save nothing
         * @return this builder
         */
        public Builder saveTo(Path dir) {
            saveTo = dir;
            return this;
        }

        /**
         * The request.
         *
         * @return a new request with the values set so far
         * @throws NullPointerException naming the component set to null
         */
        public SleepRequest build() {
            return new SleepRequest(budget, config, preempted, listener, saveTo);
        }
    }
}
