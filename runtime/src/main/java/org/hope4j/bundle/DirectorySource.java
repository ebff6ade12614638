package org.hope4j.bundle;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.hope4j.BundleException;

/** A bundle in a directory of the file system. */
final class DirectorySource implements BundleSource {
    private final Path dir;

    DirectorySource(Path dir) {
        Objects.requireNonNull(dir, "dir");
        this.dir = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(this.dir)) {
            throw new BundleException(dir + ": not a bundle directory (" + (Files.exists(this.dir) ? "not a directory" : "does not exist") + ")");
        }
    }

    @Override
    public byte[] read(String relativePath) {
        if (!Manifest.isPlainRelativePath(relativePath)) {
            throw new BundleException(dir + ": \"" + relativePath + "\" is not a plain relative path inside the bundle");
        }
        Path file = dir.resolve(relativePath).normalize();
        if (!file.startsWith(dir)) {
            throw new BundleException(dir + ": \"" + relativePath + "\" leaves the bundle directory");
        }
        return RegularFiles.read(file, dir, RegularFiles.MAX_BUNDLE_FILE, (what, cause) -> new BundleException(dir + ": file " + relativePath + " " + what, cause));
    }

    @Override
    public boolean has(String relativePath) {
        return Manifest.isPlainRelativePath(relativePath) && java.nio.file.Files.exists(dir.resolve(relativePath),
                java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public String describe() {
        return dir.toString();
    }

    @Override
    public String toString() {
        return "DirectorySource[" + dir + "]";
    }
}
