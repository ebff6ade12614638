package org.hope4j.bundle;

import java.nio.file.Path;

/**
 * Where a bundle's files come from: a directory, or a prefix on the class path (the default bundle
 * inside the runtime jar). Paths are relative to the bundle root and use {@code /}, as in
 * {@code manifest.json}'s {@code files}.
 */
public interface BundleSource {

    /**
     * Reads one file of the bundle whole.
     *
     * @param relativePath the path inside the bundle, for example {@code golden/stream.bin}
     * @return the file's bytes
     * @throws org.hope4j.BundleException naming the source and the file if it is missing, unreadable
     *     or the path leaves the bundle
     */
    byte[] read(String relativePath);

    /**
     * Whether the bundle holds {@code relativePath} (a plain relative path).
     *
     * @param relativePath the path inside the bundle, with {@code /} separators, for example {@code manifest.sha256}
     * @return true if the file exists in this source, false for a path that is not plain and relative (nothing is read, so
     *     {@link #read} may still refuse the file)
     */
    boolean has(String relativePath);

    /**
     * Describes the source for messages.
     *
     * @return for example {@code /opt/hope/bundle} or {@code classpath:org/hope4j/default-bundle/}
     */
    String describe();

    /**
     * A bundle in a directory.
     *
     * @param dir the bundle directory (holding {@code manifest.json})
     * @return the source
     * @throws org.hope4j.BundleException if {@code dir} is not a directory
     */
    static BundleSource directory(Path dir) {
        return new DirectorySource(dir);
    }

    /**
     * A bundle on the class path, read through this library's class loader.
     *
     * @param prefix the resource folder, for example {@code org/hope4j/default-bundle/}
     * @return the source
     */
    static BundleSource classpath(String prefix) {
        return new ClasspathSource(prefix, BundleSource.class.getClassLoader());
    }

    /**
     * A bundle on the class path, read through the given class loader.
     *
     * @param prefix the resource folder, for example {@code org/hope4j/default-bundle/}
     * @param loader the class loader to read resources with
     * @return the source
     */
    static BundleSource classpath(String prefix, ClassLoader loader) {
        return new ClasspathSource(prefix, loader);
    }
}
