package org.hope4j.device.serve;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.hope4j.Learner;
import org.hope4j.Score;
import org.hope4j.sleep.DevicePolicy;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepEvent;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepScheduler;

/**
 * The service's learners: one per profile, each in its own owner-only directory under the state root
 * ({@code profiles/<name>/state}, snapshots in {@code profiles/<name>/snapshots/<snapshot>}), opened
 * on first use, saved every {@code saveEveryBytes} learned bytes and when idle, and closed (after a
 * save) when idle past {@code evictAfterTicks} housekeeping ticks or when more than {@code maxOpen}
 * are open. Requests to one profile run one at a time; different profiles run in parallel. With idle
 * sleep on, at most one profile sleeps at a time on the device.
 */
public final class Profiles implements AutoCloseable {
    private static final Logger LOG = System.getLogger(Profiles.class.getName());
    /** Profile and snapshot names: lower-case letters, digits, '-' and '_', 1-64 characters, no path tricks. */
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");

    /** How the service runs its profiles. */
    public record Options(Path root, int maxOpen, long saveEveryBytes, int evictAfterTicks, boolean idleSleep, DevicePolicy policy,
            org.hope4j.sleep.SchedulerOptions sleepWhen, Function<Path, Learner> opener) {
    }

    /** One open profile. Its monitor serialises the requests to it. */
    static final class Entry {
        final String name;
        final Learner learner;
        final SleepScheduler scheduler;
        long idleTicks;
        long unsavedBytes;
        boolean dirty;
        double recentBitsPerByte = Double.NaN;
        /** Sleeps asked for by a request, running outside the lock; the profile is not evicted meanwhile. */
        int sleepsRunning;
        boolean closed;

        Entry(String name, Learner learner, SleepScheduler scheduler) {
            this.name = name;
            this.learner = learner;
            this.scheduler = scheduler;
        }
    }

    private final Options options;
    private final Path profilesDir;
    private final Map<String, Entry> open = new ConcurrentHashMap<>();
    private final Object registry = new Object();
    /** The profile whose sleep holds the device, or null. */
    private final AtomicReference<String> sleeping = new AtomicReference<>();
    private final ServeMetrics metrics;
    private final AtomicLong saves = new AtomicLong();
    /**
     * Learner computations running at once: at most one per processor, first come first served. More
     * would not finish sooner and would each hold their learner's working set (~120 MB) in the caches at
     * the same time. Reading a request body does not hold a permit.
     */
    private final java.util.concurrent.Semaphore compute = new java.util.concurrent.Semaphore(Runtime.getRuntime().availableProcessors(), true);

    public Profiles(Options options, ServeMetrics metrics) {
        this.options = options;
        this.metrics = metrics;
        this.profilesDir = options.root().resolve("profiles");
        ownerOnlyDirectory(options.root());
        ownerOnlyDirectory(profilesDir);
    }

    static void ownerOnlyDirectory(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the owner-only directory " + dir + ": " + e.getMessage(), e);
        }
    }

    static String checkName(String kind, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw ApiException.badRequest("bad_" + kind + "_name", kind + " names are 1-64 characters of a-z, 0-9, '-' and '_',"
                    + " starting with a letter or digit; found " + (name == null ? "nothing" : "'" + abbreviate(name) + "'"));
        }
        return name;
    }

    private static String abbreviate(String s) {
        String t = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        return t.replaceAll("[^\\x20-\\x7e]", "?");
    }

    private Path dir(String name) {
        return profilesDir.resolve(checkName("profile", name));
    }

    Path stateDir(String name) {
        return dir(name).resolve("state");
    }

    private Path snapshotDir(String name, String snapshot) {
        return dir(name).resolve("snapshots").resolve(checkName("snapshot", snapshot));
    }

    /** Creates an empty profile; false if it exists already. */
    public boolean create(String name) {
        Path d = dir(name);
        synchronized (registry) {
            try {
                Files.createDirectory(d);
            } catch (FileAlreadyExistsException e) {
                return false;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create profile " + name + ": " + e.getMessage(), e);
            }
            ownerOnlyDirectory(d);
            ownerOnlyDirectory(d.resolve("state"));
            ownerOnlyDirectory(d.resolve("snapshots"));
            return true;
        }
    }

    public boolean exists(String name) {
        return Files.isDirectory(dir(name));
    }

    /** The profiles on disk, sorted. */
    public List<String> names() {
        try (Stream<Path> s = Files.list(profilesDir)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> NAME.matcher(n).matches()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<String> openNames() {
        return open.keySet().stream().sorted().toList();
    }

    /** Closes the profile without saving and erases everything it learned; false if there was no such profile. */
    public boolean delete(String name) {
        Path d = dir(name);
        synchronized (registry) {
            Entry e = open.remove(name);
            if (e != null) {
                synchronized (e) {
                    shut(e, false);
                }
            }
            if (!Files.isDirectory(d)) {
                return false;
            }
            deleteTree(d);
            metrics.forget(name);
            return true;
        }
    }

    static void deleteTree(Path d) {
        if (!Files.exists(d)) {
            return;
        }
        try (Stream<Path> s = Files.walk(d)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot erase " + d + ": " + e.getMessage(), e);
        }
    }

    /** Runs {@code f} on the profile's learner (opened if needed) with the profile's requests serialised. */
    public <T> T with(String name, Function<Entry, T> f) {
        for (;;) {
            Entry e = entry(name);
            synchronized (e) {
                if (e.closed) {
                    continue; // evicted between lookup and lock: open it again
                }
                e.idleTicks = 0;
                return f.apply(e);
            }
        }
    }

    private Entry entry(String name) {
        Entry e = open.get(name);
        if (e != null) {
            return e;
        }
        synchronized (registry) {
            e = open.get(name);
            if (e != null) {
                return e;
            }
            if (!exists(name)) {
                throw ApiException.notFound("no profile '" + name + "' (create it with PUT /v1/profiles/" + name + ")");
            }
            while (open.size() >= options.maxOpen() && evictOne()) {
                // made room
            }
            Learner l = options.opener().apply(stateDir(name));
            SleepScheduler s = null;
            if (options.idleSleep()) {
                s = l.sleepWhenIdle(oneAtATime(name), options.sleepWhen(), SleepConfig.defaults(), stateDir(name));
                s.addListener(ev -> sleepEvent(name, ev));
            }
            e = new Entry(name, l, s);
            open.put(name, e);
            metrics.opened(open.size());
            LOG.log(Level.INFO, "profile {0} opened (position {1})", name, l.position());
            return e;
        }
    }

    /** The device policy, plus: no other profile is sleeping (the first to ask holds the device until its sleep ends). */
    private DevicePolicy oneAtATime(String name) {
        DevicePolicy inner = options.policy();
        return () -> {
            DevicePolicy.Decision d = inner.check();
            if (!d.allowed()) {
                return d;
            }
            if (sleeping.compareAndSet(null, name) || name.equals(sleeping.get())) {
                return d;
            }
            return new DevicePolicy.Decision(false, "not allowed: profile " + sleeping.get() + " is sleeping");
        };
    }

    private void sleepEvent(String name, SleepEvent ev) {
        if (ev instanceof SleepEvent.Finished f) {
            sleeping.compareAndSet(name, null);
            SleepReport r = f.report();
            metrics.sleep(name, r);
            LOG.log(Level.INFO, "profile {0} slept: {1}", name, r.toJson());
        } else if (ev instanceof SleepEvent.Skipped) {
            sleeping.compareAndSet(name, null);
        }
    }

    /** Runs one learner computation with a processor's permit. */
    <T> T compute(java.util.function.Supplier<T> work) {
        compute.acquireUninterruptibly();
        try {
            return work.get();
        } finally {
            compute.release();
        }
    }

    /** After {@code observe}: counts the bytes and saves once {@code saveEveryBytes} are unsaved. */
    void learned(Entry e, Score s) {
        e.unsavedBytes += s.bytes();
        e.dirty = true;
        if (s.scoredBytes() > 0) {
            double b = s.bitsPerByte();
            e.recentBitsPerByte = Double.isNaN(e.recentBitsPerByte) ? b : 0.8 * e.recentBitsPerByte + 0.2 * b;
        }
        metrics.learned(e.name, s, e.recentBitsPerByte, e.learner.updateCounts());
        if (e.unsavedBytes >= options.saveEveryBytes()) {
            save(e);
        }
    }

    void save(Entry e) {
        e.learner.save(stateDir(e.name));
        e.unsavedBytes = 0;
        e.dirty = false;
        saves.incrementAndGet();
    }

    /** Saves the learner into a named snapshot (replacing one of that name). */
    void snapshot(Entry e, String snapshot) {
        Path d = snapshotDir(e.name, snapshot);
        ownerOnlyDirectory(d);
        e.learner.save(d);
    }

    /** Rolls the profile back to a snapshot and saves that as its state. */
    void restore(Entry e, String snapshot) {
        Path d = snapshotDir(e.name, snapshot);
        if (!Learner.hasSavedState(d)) {
            throw ApiException.notFound("profile " + e.name + " has no snapshot '" + snapshot + "'");
        }
        e.learner.restore(d);
        save(e);
    }

    List<String> snapshots(String name) {
        Path d = dir(name).resolve("snapshots");
        if (!Files.isDirectory(d)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(d)) {
            return s.filter(Learner::hasSavedState).map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    boolean deleteSnapshot(String name, String snapshot) {
        Path d = snapshotDir(name, snapshot);
        if (!Files.isDirectory(d)) {
            return false;
        }
        deleteTree(d);
        return true;
    }

    /** Takes the device for a sleep of {@code name}; false if another profile holds it. */
    boolean holdDevice(String name) {
        return sleeping.compareAndSet(null, name);
    }

    void releaseDevice(String name) {
        sleeping.compareAndSet(name, null);
    }

    /** The profile holding the device's sleep, or null. */
    String sleepingProfile() {
        return sleeping.get();
    }

    long saves() {
        return saves.get();
    }

    /**
     * One housekeeping tick: saves what is dirty, closes profiles idle for {@code evictAfterTicks}
     * ticks (unless they are sleeping). Ticks are counted, so a test drives them without a clock.
     */
    public void tick() {
        List<Entry> idle = new ArrayList<>();
        for (Entry e : new ArrayList<>(open.values())) {
            synchronized (e) {
                if (e.closed) {
                    continue;
                }
                e.idleTicks++;
                if (e.dirty) {
                    save(e);
                }
                if (e.idleTicks >= options.evictAfterTicks()) {
                    idle.add(e);
                }
            }
        }
        for (Entry e : idle) {
            synchronized (registry) { // lock order everywhere: the registry, then a profile
                synchronized (e) {
                    boolean asleep = e.sleepsRunning > 0 || (e.scheduler != null && e.scheduler.sleeping());
                    if (e.closed || e.idleTicks < options.evictAfterTicks() || asleep) {
                        continue;
                    }
                    open.remove(e.name, e);
                    shut(e, true);
                    metrics.opened(open.size());
                }
            }
            LOG.log(Level.INFO, "profile {0} closed after {1} idle ticks", e.name, options.evictAfterTicks());
        }
    }

    /** Closes the least recently used open profile that is not in a request; false if none could be. */
    private boolean evictOne() {
        Entry victim = open.values().stream().filter(x -> x.sleepsRunning == 0).max(Comparator.comparingLong(x -> x.idleTicks)).orElse(null);
        if (victim == null) {
            return false;
        }
        synchronized (victim) {
            open.remove(victim.name, victim);
            shut(victim, true);
        }
        metrics.opened(open.size());
        return true;
    }

    private void shut(Entry e, boolean save) {
        if (e.closed) {
            return;
        }
        try {
            if (e.scheduler != null) {
                e.scheduler.close();
            }
            if (save && (e.dirty || !Learner.hasSavedState(stateDir(e.name)))) {
                save(e);
            }
        } finally {
            e.closed = true;
            sleeping.compareAndSet(e.name, null);
            e.learner.close();
        }
    }

    /** Saves and closes every open profile (the service's shutdown). */
    @Override
    public void close() {
        synchronized (registry) {
            for (Entry e : new ArrayList<>(open.values())) {
                synchronized (e) {
                    try {
                        shut(e, true);
                    } catch (RuntimeException ex) {
                        LOG.log(Level.ERROR, "profile " + e.name + " could not be saved at shutdown: " + ex.getMessage(), ex);
                    }
                }
            }
            open.clear();
        }
    }
}
