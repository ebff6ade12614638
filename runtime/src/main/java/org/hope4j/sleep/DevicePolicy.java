package org.hope4j.sleep;

/**
 * Whether the device may sleep now (power, heat, load, time of day), asked by the
 * {@link SleepScheduler} once the learner has been idle long enough. Implementations never throw
 * from {@link #check()}: what they cannot read, they skip and say so in the reason.
 *
 * @see LinuxDevicePolicy
 */
@FunctionalInterface
public interface DevicePolicy {

    /**
     * Reads the device now and decides.
     *
     * @return whether a sleep may start now, and what was read; never {@code null}
     */
    Decision check();

    /**
     * No device conditions: sleep is governed by idle time alone.
     *
     * @return a policy that always allows, with the reason "allowed: idle time only"
     */
    static DevicePolicy always() {
        return () -> new Decision(true, "allowed: idle time only");
    }

    /**
     * A policy's answer.
     *
     * @param allowed whether a sleep may start now
     * @param reason what was read and why, e.g. "allowed: mains power, 48.0 C, load 0.21/core" or
     *     "not allowed: battery 23% &lt; 50%"
     */
    record Decision(boolean allowed, String reason) {
        /**
         * Checks the reason.
         *
         * @param allowed whether a sleep may start now
         * @param reason what was read and why; not {@code null}
         * @throws IllegalArgumentException if {@code reason} is {@code null}
         */
        public Decision {
            if (reason == null) {
                throw new IllegalArgumentException("reason must not be null");
            }
        }
    }
}
