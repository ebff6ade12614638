package org.hope4j.sleep;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@link DevicePolicy} of a Linux device (Android included), read from sysfs and procfs:
 *
 * <ul>
 *   <li><b>power</b>, {@code sys/class/power_supply/*}/{@code type|online|capacity|status|scope}: a
 *       {@code Mains} (or {@code USB…}/{@code Wireless}) supply with {@code online} 1 means external
 *       power; otherwise a battery that is {@code Charging} is fine, and a discharging one must be
 *       at least {@link PolicyOptions#minBatteryPercent()} full (several batteries: their mean).
 *       Batteries of peripherals ({@code scope} {@code Device}) are ignored.
 *   <li><b>heat</b>, {@code sys/class/thermal/thermal_zone*}/{@code temp} in millidegrees Celsius: the
 *       hottest zone must not exceed {@link PolicyOptions#maxTemperatureC()}.
 *   <li><b>load</b>, {@code proc/loadavg}: the 1-minute load divided by the cores must not exceed
 *       {@link PolicyOptions#maxLoadPerCore()}.
 *   <li><b>time of day</b>: inside {@link PolicyOptions#from()}–{@link PolicyOptions#to()} if set.
 * </ul>
 *
 * <p>Each source that is missing is skipped, so a machine with none of them is governed by idle
 * time alone; a file that cannot be read or parsed is treated as missing and named in the reason.
 * {@link #check()} never throws. The reason lists what was read, e.g.
 * {@code "allowed: mains power, 48.0 C, load 0.21/core"}, or what vetoed the sleep, e.g.
 * {@code "not allowed: battery 23% < 50%"}. Thread-safe: it holds no mutable state.
 */
public final class LinuxDevicePolicy implements DevicePolicy {
    /** Longest sysfs/procfs value read; anything longer is cut (and will not parse). */
    private static final int MAX_READ = 4096;
    /** Zones above this are broken sensors, not heat. */
    private static final double IMPLAUSIBLE_C = 200.0;

    private final PolicyOptions options;

    /**
     * A policy reading the files under {@code options.root()}.
     *
     * @param options the root to read under, the battery, heat and load limits, the daily window and the clock
     * @throws IllegalArgumentException if {@code options} is {@code null}
     */
    public LinuxDevicePolicy(PolicyOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        this.options = options;
    }

    /**
     * The options this policy checks against.
     *
     * @return the options given at construction
     */
    public PolicyOptions options() {
        return options;
    }

    @Override
    public Decision check() {
        try {
            return evaluate();
        } catch (RuntimeException e) {
            // Defensive: every read is already guarded; an unexpected failure vetoes rather than throws.
            return new Decision(false, "not allowed: device check failed: " + e);
        }
    }

    private Decision evaluate() {
        Readings r = new Readings();
        boolean sensors = power(r) | thermal(r) | load(r);
        if (!sensors) {
            r.facts.add("no power, thermal or load readings, idle time only");
        }
        window(r);
        StringBuilder reason = new StringBuilder();
        boolean allowed = r.vetoes.isEmpty();
        reason.append(allowed ? "allowed: " : "not allowed: ");
        reason.append(String.join(", ", allowed ? r.facts : r.vetoes));
        if (!r.notes.isEmpty()) {
            reason.append(" (").append(String.join("; ", r.notes)).append(')');
        }
        return new Decision(allowed, reason.toString());
    }

    private void window(Readings r) {
        if (options.from() == null) {
            return;
        }
        LocalTime now = LocalTime.now(options.clock());
        LocalTime from = options.from();
        LocalTime to = options.to();
        boolean inside = from.isBefore(to)
                ? !now.isBefore(from) && now.isBefore(to)
                : !now.isBefore(from) || now.isBefore(to); // crosses midnight
        String window = "window " + from + "-" + to;
        if (inside) {
            r.facts.add("in " + window);
        } else {
            r.vetoes.add(now.withNano(0) + " outside " + window);
        }
    }

    /** Returns whether any power reading was made. */
    private boolean power(Readings r) {
        Path dir = options.root().resolve("sys/class/power_supply");
        List<Path> supplies = list(dir, "*", r);
        String external = null;
        int batteries = 0;
        long capacitySum = 0;
        boolean charging = false;
        for (Path supply : supplies) {
            String name = supply.getFileName().toString();
            String type = read(supply.resolve("type"), name + "/type", r);
            if (type == null) {
                continue;
            }
            String t = type.toLowerCase(Locale.ROOT);
            if (t.equals("mains") || t.startsWith("usb") || t.equals("wireless")) {
                Long online = readLong(supply.resolve("online"), name + "/online", r);
                if (online != null && online == 1 && external == null) {
                    external = t.equals("mains") ? "mains power" : t.startsWith("usb") ? "usb power" : "wireless power";
                }
            } else if (t.equals("battery")) {
                String scope = readQuiet(supply.resolve("scope"));
                if (scope != null && scope.equalsIgnoreCase("device")) {
                    continue; // a mouse's or headset's battery, not ours
                }
                String status = read(supply.resolve("status"), name + "/status", r);
                if (status != null && status.equalsIgnoreCase("charging")) {
                    charging = true;
                }
                Long capacity = readLong(supply.resolve("capacity"), name + "/capacity", r);
                if (capacity != null) {
                    if (capacity < 0 || capacity > 100) {
                        r.notes.add(name + "/capacity unreadable: " + capacity + " is not a percentage");
                    } else {
                        batteries++;
                        capacitySum += capacity;
                    }
                }
            }
        }
        if (external != null) {
            r.facts.add(external);
            return true;
        }
        if (batteries == 0) {
            if (charging) {
                r.facts.add("battery charging");
                return true;
            }
            return false;
        }
        long percent = Math.round((double) capacitySum / batteries);
        if (charging) {
            r.facts.add("battery " + percent + "% charging");
        } else if (options.requireMainsOrBattery() && percent < options.minBatteryPercent()) {
            r.vetoes.add("battery " + percent + "% < " + options.minBatteryPercent() + "%");
        } else {
            r.facts.add("battery " + percent + "%");
        }
        return true;
    }

    /** Returns whether any temperature was read. */
    private boolean thermal(Readings r) {
        Path dir = options.root().resolve("sys/class/thermal");
        double hottest = Double.NEGATIVE_INFINITY;
        String hottestZone = null;
        for (Path zone : list(dir, "thermal_zone*", r)) {
            String name = zone.getFileName().toString();
            Path file = zone.resolve("temp");
            if (!Files.exists(file)) {
                continue;
            }
            Long milli = readLong(file, name + "/temp", r);
            if (milli == null) {
                continue;
            }
            double c = milli / 1000.0;
            if (c > IMPLAUSIBLE_C) {
                r.notes.add(name + "/temp unreadable: " + milli + " is not a temperature");
                continue;
            }
            if (c > hottest) {
                hottest = c;
                hottestZone = name;
            }
        }
        if (hottestZone == null) {
            return false;
        }
        String temp = String.format(Locale.ROOT, "%.1f C", hottest);
        if (hottest > options.maxTemperatureC()) {
            r.vetoes.add(String.format(Locale.ROOT, "%s > %.1f C (%s)", temp, options.maxTemperatureC(), hottestZone));
        } else {
            r.facts.add(temp);
        }
        return true;
    }

    /** Returns whether the load was read. */
    private boolean load(Readings r) {
        Path file = options.root().resolve("proc/loadavg");
        if (!Files.exists(file)) {
            return false;
        }
        String text = read(file, "loadavg", r);
        if (text == null) {
            return false;
        }
        String first = text.split("\\s+", 2)[0];
        if (!first.matches("\\d{1,9}(\\.\\d{1,9})?")) {
            r.notes.add("loadavg unreadable: " + quote(text));
            return false;
        }
        double load = Double.parseDouble(first);
        int cores = options.cores() > 0 ? options.cores() : Runtime.getRuntime().availableProcessors();
        double perCore = load / cores;
        String figure = String.format(Locale.ROOT, "load %.2f/core", perCore);
        if (perCore > options.maxLoadPerCore()) {
            r.vetoes.add(String.format(Locale.ROOT, "%s > %.2f/core", figure, options.maxLoadPerCore()));
        } else {
            r.facts.add(figure);
        }
        return true;
    }

    private static List<Path> list(Path dir, String glob, Readings r) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, glob)) {
            for (Path p : entries) {
                if (Files.isDirectory(p)) { // sysfs entries are links to directories; follow them
                    out.add(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            r.notes.add(dir.getFileName() + " unreadable: " + e.getClass().getSimpleName());
        }
        out.sort(null);
        return out;
    }

    /** The trimmed content, or null if missing (silently) or unreadable (noted). */
    private static String read(Path file, String label, Readings r) {
        try {
            return readTrimmed(file);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | RuntimeException e) {
            r.notes.add(label + " unreadable: " + e.getClass().getSimpleName());
            return null;
        }
    }

    private static String readQuiet(Path file) {
        try {
            return readTrimmed(file);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static Long readLong(Path file, String label, Readings r) {
        String text = read(file, label, r);
        if (text == null) {
            return null;
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            r.notes.add(label + " unreadable: " + quote(text));
            return null;
        }
    }

    private static String readTrimmed(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readNBytes(MAX_READ), StandardCharsets.ISO_8859_1).trim();
        }
    }

    private static String quote(String text) {
        String s = text.length() > 20 ? text.substring(0, 20) + "..." : text;
        return '"' + s.replaceAll("\\p{Cntrl}", "?") + '"';
    }

    /** What one check found: facts when allowed, vetoes when not, notes on unreadable files. */
    private static final class Readings {
        final List<String> facts = new ArrayList<>();
        final List<String> vetoes = new ArrayList<>();
        final List<String> notes = new ArrayList<>();
    }
}
