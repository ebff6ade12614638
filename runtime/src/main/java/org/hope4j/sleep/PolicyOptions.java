package org.hope4j.sleep;

import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalTime;

/**
 * What {@link LinuxDevicePolicy} requires before a sleep. Immutable; start from
 * {@link #defaults()} and change with the {@code with…} methods.
 *
 * @param root file system root under which {@code sys/class/...} and {@code proc/loadavg} are
 *     read; {@code /} on a device, a fake tree in tests
 * @param requireMainsOrBattery when true, sleep only on mains (or USB) power, with a charging
 *     battery, or with the battery at least {@code minBatteryPercent} full; when false, power is
 *     read and reported but never vetoes
 * @param minBatteryPercent lowest battery charge, in percent, at which a sleep runs on battery
 * @param maxTemperatureC hottest thermal zone allowed, in degrees Celsius
 * @param maxLoadPerCore highest 1-minute load average per core allowed
 * @param cores cores to divide the load by; 0 means {@link Runtime#availableProcessors()}
 * @param from start of the daily window in which sleep is allowed; {@code null} (with {@code to})
 *     means any time
 * @param to end (exclusive) of the daily window; may be before {@code from}: the window then
 *     crosses midnight
 * @param clock where the time of day comes from (its zone sets the local time)
 */
public record PolicyOptions(Path root, boolean requireMainsOrBattery, int minBatteryPercent, double maxTemperatureC,
        double maxLoadPerCore, int cores, LocalTime from, LocalTime to, Clock clock) {
    /**
     * Checks every component (the class comment says what each means).
     *
     * @param root file system root under which {@code sys/class/...} and {@code proc/loadavg} are read;
     *     not {@code null}
     * @param requireMainsOrBattery whether a discharging battery below {@code minBatteryPercent} vetoes a sleep
     * @param minBatteryPercent lowest battery charge, in percent, at which a sleep runs on battery; in [0, 100]
     * @param maxTemperatureC hottest thermal zone allowed, in degrees Celsius; finite
     * @param maxLoadPerCore highest 1-minute load average per core allowed; finite and {@code > 0}
     * @param cores cores to divide the load by, {@code >= 0}; 0 means {@link Runtime#availableProcessors()}
     * @param from start (inclusive) of the daily window, or {@code null} together with {@code to} for any time
     * @param to end (exclusive) of the daily window, or {@code null} together with {@code from}; not equal to
     *     {@code from}, and before it for a window that crosses midnight
     * @param clock where the time of day comes from; not {@code null}
     * @throws IllegalArgumentException if a component is {@code null} where it may not be or out of its range,
     *     only one of {@code from} and {@code to} is {@code null}, or they are equal
     */
    public PolicyOptions {
        if (root == null) {
            throw new IllegalArgumentException("root must not be null");
        }
        if (minBatteryPercent < 0 || minBatteryPercent > 100) {
            throw new IllegalArgumentException("minBatteryPercent must be in [0, 100], found " + minBatteryPercent);
        }
        if (!Double.isFinite(maxTemperatureC)) {
            throw new IllegalArgumentException("maxTemperatureC must be finite, found " + maxTemperatureC);
        }
        if (!(maxLoadPerCore > 0) || Double.isInfinite(maxLoadPerCore)) {
            throw new IllegalArgumentException("maxLoadPerCore must be finite and > 0, found " + maxLoadPerCore);
        }
        if (cores < 0) {
            throw new IllegalArgumentException("cores must be >= 0 (0 = available processors), found " + cores);
        }
        if ((from == null) != (to == null)) {
            throw new IllegalArgumentException("window needs both from and to, or neither, found " + from + "-" + to);
        }
        if (from != null && from.equals(to)) {
            throw new IllegalArgumentException("window from and to must differ, found " + from + "-" + to);
        }
        if (clock == null) {
            throw new IllegalArgumentException("clock must not be null");
        }
    }

    /**
     * Root {@code /}; mains power or battery at least 50%; at most 70 C; at most 0.5 load per core
     * over all available processors; any time of day; the system clock in the default zone.
     *
     * @return the default options
     */
    public static PolicyOptions defaults() {
        return new PolicyOptions(Path.of("/"), true, 50, 70.0, 0.5, 0, null, null, Clock.systemDefaultZone());
    }

    /**
     * These options with another file system root.
     *
     * @param value the directory under which {@code sys/class/...} and {@code proc/loadavg} are read;
     *     {@code /} on a device, a fake tree in tests; not {@code null}
     * @return a copy of these options with that root
     * @throws IllegalArgumentException if {@code value} is {@code null}
     */
    public PolicyOptions withRoot(Path value) {
        return new PolicyOptions(value, requireMainsOrBattery, minBatteryPercent, maxTemperatureC, maxLoadPerCore,
                cores, from, to, clock);
    }

    /**
     * These options with or without the power requirement.
     *
     * @param value true to veto a sleep on a discharging battery below {@link #minBatteryPercent()}; false
     *     to read and report power but never veto on it
     * @return a copy of these options with that requirement
     */
    public PolicyOptions withRequireMainsOrBattery(boolean value) {
        return new PolicyOptions(root, value, minBatteryPercent, maxTemperatureC, maxLoadPerCore, cores, from, to,
                clock);
    }

    /**
     * These options with another battery minimum.
     *
     * @param value lowest battery charge, in percent, at which a sleep runs on battery; in [0, 100]
     * @return a copy of these options with that minimum
     * @throws IllegalArgumentException if {@code value} is outside [0, 100]
     */
    public PolicyOptions withMinBatteryPercent(int value) {
        return new PolicyOptions(root, requireMainsOrBattery, value, maxTemperatureC, maxLoadPerCore, cores, from,
                to, clock);
    }

    /**
     * These options with another temperature limit.
     *
     * @param value hottest thermal zone allowed, in degrees Celsius; finite
     * @return a copy of these options with that limit
     * @throws IllegalArgumentException if {@code value} is NaN or infinite
     */
    public PolicyOptions withMaxTemperatureC(double value) {
        return new PolicyOptions(root, requireMainsOrBattery, minBatteryPercent, value, maxLoadPerCore, cores, from,
                to, clock);
    }

    /**
     * These options with another load limit.
     *
     * @param value highest 1-minute load average per core allowed; finite and {@code > 0}
     * @return a copy of these options with that limit
     * @throws IllegalArgumentException if {@code value} is not finite or not above 0
     */
    public PolicyOptions withMaxLoadPerCore(double value) {
        return new PolicyOptions(root, requireMainsOrBattery, minBatteryPercent, maxTemperatureC, value, cores, from,
                to, clock);
    }

    /**
     * These options with another number of cores to divide the load by.
     *
     * @param value cores to divide the 1-minute load by, {@code >= 0}; 0 means {@link Runtime#availableProcessors()}
     * @return a copy of these options with that number of cores
     * @throws IllegalArgumentException if {@code value} is negative
     */
    public PolicyOptions withCores(int value) {
        return new PolicyOptions(root, requireMainsOrBattery, minBatteryPercent, maxTemperatureC, maxLoadPerCore,
                value, from, to, clock);
    }

    /**
     * Sleep only from {@code from} until {@code to} each day; both {@code null} means any time.
     *
     * @param from start of the window, inclusive, in the clock's zone; or {@code null} together with {@code to}
     * @param to end of the window, exclusive; before {@code from} for a window that crosses midnight; or
     *     {@code null} together with {@code from}
     * @return a copy of these options with that window
     * @throws IllegalArgumentException if only one of them is {@code null}, or they are equal
     */
    public PolicyOptions withWindow(LocalTime from, LocalTime to) {
        return new PolicyOptions(root, requireMainsOrBattery, minBatteryPercent, maxTemperatureC, maxLoadPerCore,
                cores, from, to, clock);
    }

    /**
     * These options with another clock.
     *
     * @param value where the time of day comes from (its zone sets the local time); not {@code null}
     * @return a copy of these options with that clock
     * @throws IllegalArgumentException if {@code value} is {@code null}
     */
    public PolicyOptions withClock(Clock value) {
        return new PolicyOptions(root, requireMainsOrBattery, minBatteryPercent, maxTemperatureC, maxLoadPerCore,
                cores, from, to, value);
    }
}
