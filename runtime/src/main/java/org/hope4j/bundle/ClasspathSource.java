package org.hope4j.bundle;

import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import org.hope4j.BundleException;

/** A bundle stored as class-path resources under a prefix (for example inside the runtime jar). */
final class ClasspathSource implements BundleSource {
    private final String prefix;
    private final ClassLoader loader;

    ClasspathSource(String prefix, ClassLoader loader) {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(loader, "loader");
        String p = prefix.startsWith("/") ? prefix.substring(1) : prefix;
        this.prefix = p.isEmpty() || p.endsWith("/") ? p : p + "/";
        this.loader = loader;
    }

    @Override
    public byte[] read(String relativePath) {
        if (!Manifest.isPlainRelativePath(relativePath)) {
            throw new BundleException(describe() + ": \"" + relativePath + "\" is not a plain relative path inside the bundle");
        }
        String name = prefix + relativePath;
        try (InputStream in = loader.getResourceAsStream(name)) {
            if (in == null) {
                throw new BundleException(describe() + ": resource " + name + " is missing");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new BundleException(describe() + ": cannot read resource " + name + ": " + e, e);
        }
    }

    @Override
    public boolean has(String relativePath) {
        return Manifest.isPlainRelativePath(relativePath) && loader.getResource(prefix + relativePath) != null;
    }

    @Override
    public String describe() {
        return "classpath:" + prefix;
    }

    @Override
    public String toString() {
        return "ClasspathSource[" + prefix + "]";
    }
}
