package org.hope4j.bundle;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The versions this runtime was built with, read from {@code org/hope4j/version.properties}, which
 * Maven fills in at build time (the values are never kept as literals in the code).
 */
public final class Versions {
    private static final String RESOURCE = "/org/hope4j/version.properties";
    private static final Properties PROPS = load();

    private Versions() {
    }

    /**
     * Returns the Hope4J library version.
     *
     * @return the Maven project version, for example {@code 0.1.0-SNAPSHOT}
     */
    public static String library() {
        return PROPS.getProperty("hope4j.version");
    }

    /**
     * Returns the bundle format version this runtime reads ({@code format_version} in
     * {@code manifest.json}).
     *
     * @return the supported bundle format version
     */
    public static int bundleFormat() {
        return Integer.parseInt(PROPS.getProperty("bundle.format.version"));
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = Versions.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path: the runtime jar is incomplete");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        for (String key : new String[] {"hope4j.version", "bundle.format.version"}) {
            String v = p.getProperty(key);
            if (v == null || v.contains("${")) {
                throw new IllegalStateException(RESOURCE + ": " + key + " was not filled in by the build (found " + v + ")");
            }
        }
        return p;
    }
}
