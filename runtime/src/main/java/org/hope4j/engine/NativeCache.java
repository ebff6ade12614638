package org.hope4j.engine;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.JarURLConnection;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Where the native libraries go: one owner-only cache ({@code -Dhope4j.cache.dir}, else
 * {@code $XDG_CACHE_HOME/hope4j}, else {@code ~/.cache/hope4j}, mode 0700) instead of JavaCPP's
 * world-readable {@code ~/.javacpp/cache} and a fresh {@code onnxruntime-java*} folder in the temp
 * directory on every start (22 MB each, left behind whenever a process is killed while loading).
 * ONNX Runtime's two libraries are extracted there once per version and found through
 * {@code onnxruntime.native.path}; JavaCPP extracts OpenBLAS and the CUDA engine there
 * ({@code org.bytedeco.javacpp.cachedir}). A property the user set is left alone; if the cache cannot
 * be made, the libraries load the way they would have without it (one debug line).
 *
 * <p>ONNX Runtime's own extraction leaves an empty {@code onnxruntime-java*} folder in the temp directory
 * at every exit (it registers the folder for deletion before the files in it, so the folder is tried first,
 * while it still holds them), and a kill while it loads leaves a full one. Each start therefore removes the
 * empty ones of this user older than ten minutes (a loading process holds its folder for well under a
 * second): the litter of a program that ran without the cache, or of another program, does not grow.
 */
public final class NativeCache {
    private static final System.Logger LOG = System.getLogger(NativeCache.class.getName());
    private static boolean prepared;

    private NativeCache() {
    }

    /**
     * The cache folder (not created).
     *
     * @return {@code -Dhope4j.cache.dir} if set and not blank, else {@code $XDG_CACHE_HOME/hope4j}, else
     *     {@code ~/.cache/hope4j}
     */
    public static Path dir() {
        String p = System.getProperty("hope4j.cache.dir");
        if (p != null && !p.isBlank()) {
            return Path.of(p);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache")).resolve("hope4j");
    }

    /** Points JavaCPP and ONNX Runtime at the cache (once per process; before either loads a library). */
    public static synchronized void prepare() {
        if (prepared) {
            return;
        }
        prepared = true;
        removeStaleOrtFolders(Path.of(System.getProperty("java.io.tmpdir")), Instant.now().minus(STALE));
        try {
            Path dir = ownerOnly(dir());
            if (System.getProperty("org.bytedeco.javacpp.cachedir") == null) {
                System.setProperty("org.bytedeco.javacpp.cachedir", ownerOnly(dir.resolve("javacpp")).toString());
            }
            if (System.getProperty("onnxruntime.native.path") == null) {
                Path ort = onnxRuntime(dir);
                if (ort != null) {
                    System.setProperty("onnxruntime.native.path", ort.toString());
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "no native cache ({0}): the libraries load the default way", e.toString());
        }
    }

    /** How old an empty ONNX Runtime temp folder must be before a start removes it. */
    static final Duration STALE = Duration.ofMinutes(10);

    /**
     * Removes the empty {@code onnxruntime-java*} folders in {@code tmp} that this user owns and that were last
     * modified before {@code before}; anything else (a file, a folder with contents, another user's) is left.
     *
     * @return how many were removed
     */
    static int removeStaleOrtFolders(Path tmp, Instant before) {
        int removed = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(tmp, "onnxruntime-java*")) {
            String me = System.getProperty("user.name");
            for (Path d : ds) {
                try {
                    if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS) && Files.getLastModifiedTime(d, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(before)
                            && Files.getOwner(d, LinkOption.NOFOLLOW_LINKS).getName().equals(me)) {
                        Files.delete(d); // fails on a folder that is not empty: left alone
                        removed++;
                    }
                } catch (IOException | UnsupportedOperationException | SecurityException e) {
                    // not empty, not ours, or gone meanwhile
                }
            }
        } catch (IOException | SecurityException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot list {0}: {1}", tmp, e.toString());
        }
        if (removed > 0) {
            LOG.log(System.Logger.Level.DEBUG, "removed {0} stale empty ONNX Runtime folders from {1}", removed, tmp);
        }
        return removed;
    }

    /** {@code dir} created if needed, mode 0700 on POSIX file systems. */
    private static Path ownerOnly(Path dir) throws IOException {
        Files.createDirectories(dir);
        if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
        return dir;
    }

    /**
     * ONNX Runtime's libraries of this platform (every file of the jar's {@code ai/onnxruntime/native/<platform>/}
     * folder: the CPU build's two, or the GPU build's providers too) extracted into {@code dir} once, or null
     * if the class path has none for this platform.
     */
    private static Path onnxRuntime(Path dir) throws IOException {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux")) {
            return null;
        }
        String prefix = "ai/onnxruntime/native/linux-" + (arch.equals("amd64") || arch.equals("x86_64") ? "x64" : arch) + "/";
        URL main = NativeCache.class.getClassLoader().getResource(prefix + "libonnxruntime.so");
        if (main == null || !main.getProtocol().equals("jar")) {
            return null; // not in a jar (an exploded class path): ONNX Runtime finds its own way
        }
        Map<String, Long> files = new TreeMap<>();
        JarURLConnection c = (JarURLConnection) main.openConnection();
        c.setUseCaches(false);
        try (JarFile jar = c.getJarFile()) {
            for (JarEntry e : java.util.Collections.list(jar.entries())) {
                String name = e.getName();
                if (name.startsWith(prefix) && !e.isDirectory() && name.indexOf('/', prefix.length()) < 0) {
                    files.put(name.substring(prefix.length()), e.getSize());
                }
            }
            // one folder per library build: a new ONNX Runtime jar gets its own, an old one is never half-replaced
            Path target = ownerOnly(dir.resolve("onnxruntime-" + prefix.substring(22, prefix.length() - 1) + "-"
                    + Long.toHexString(files.getOrDefault("libonnxruntime.so", 0L)) + "-" + files.size()));
            for (Map.Entry<String, Long> f : files.entrySet()) {
                Path lib = target.resolve(f.getKey());
                if (Files.isRegularFile(lib) && Files.size(lib) == f.getValue()) {
                    continue;
                }
                Path tmp = Files.createTempFile(target, "." + f.getKey(), ".tmp");
                try (InputStream in = jar.getInputStream(jar.getEntry(prefix + f.getKey()))) {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    Files.deleteIfExists(tmp);
                }
                LOG.log(System.Logger.Level.DEBUG, "extracted {0} into {1}", f.getKey(), target);
            }
            return target;
        }
    }
}
