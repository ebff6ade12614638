package org.hope4j.device;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Classical online compressors as reference predictors, in bits per byte: 7-Zip's PPMd (order 8,
 * 256 MB; Debian {@code 7zip}) and zpaq {@code -m5} (Debian {@code zpaq}), run as external processes.
 * The measurement is that of {@code model-export/hope_export/peers.py}:
 *
 * <ul>
 *   <li>cold: 8 |code(target)| / |target|;
 *   <li>primed with a text P: 8 (|code(P + target)| - |code(P)|) / |target|, P and the target being one
 *       file, hence one stream (one 7z solid block, one zpaq block), so the model built on P codes the
 *       target.
 * </ul>
 *
 * <p>The code is the coded stream without the container: for PPMd the packed size that {@code 7zz l
 * -slt} reports (the input is piped with {@code -si}, so 7-Zip does not shrink the model memory to the
 * input); for zpaq the arithmetic-coded payload of the archive's data blocks, parsed from the archive
 * (no block header with the model description, no segment name, SHA-1 or journaling blocks).
 */
final class Peers {
    /** An external compressor: its executable and the Debian package that installs it. */
    enum Tool {
        PPMD("ppmd", "7zz", "7zip"), ZPAQ("zpaq", "zpaq", "zpaq");

        final String key;
        final String exe;
        final String pkg;

        Tool(String key, String exe, String pkg) {
            this.key = key;
            this.exe = exe;
            this.pkg = pkg;
        }

        /** The tool named {@code ppmd} or {@code zpaq}. */
        static Tool of(String key) {
            for (Tool t : values()) {
                if (t.key.equals(key)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unknown peer " + key + " (known: ppmd, zpaq)");
        }

        /** How the peer is run and what is counted, for a result file. */
        String method() {
            return this == PPMD ? "7zz a -m0=" + PPMD_METHOD + " -si (7-Zip PPMd var. H); code = packed stream size, 7z headers excluded"
                    : "zpaq add -m" + ZPAQ_METHOD + " -threads 1; code = arithmetic-coded payload of the data blocks (model header,"
                    + " segment name, SHA-1 and journaling blocks excluded)";
        }
    }

    static final String PPMD_METHOD = "PPMd:o=8:mem=256m";
    static final String ZPAQ_METHOD = "5";
    private static final byte[] ZPAQ_TAG = {0x37, 0x6b, 0x53, 0x74, (byte) 0xa0, 0x31, (byte) 0x83, (byte) 0xd3, (byte) 0x8c, (byte) 0xb2, 0x28,
        (byte) 0xb0, (byte) 0xd3, 'z', 'P', 'Q'};
    private static final Pattern ZPAQ_DATA_NAME = Pattern.compile("jDC\\d{14}d\\d{10}");
    private static final Pattern PACKED = Pattern.compile("(?m)^Packed Size = (\\d+)$");

    private final Tool tool;
    private final Path exe;
    /** Code sizes already measured, by the SHA-256 of the input: orders and stages share primers. */
    private final Map<String, Long> sizes = new HashMap<>();

    private Peers(Tool tool, Path exe) {
        this.tool = tool;
        this.exe = exe;
    }

    /** A peer found on {@code $PATH}, else an IllegalStateException naming the package to install. */
    static Peers of(Tool tool) {
        return new Peers(tool, find(tool, System.getenv("PATH")));
    }

    Tool tool() {
        return tool;
    }

    /** The tool's executable on a PATH-style list of folders, else an IllegalStateException. */
    static Path find(Tool tool, String pathList) {
        if (pathList != null) {
            for (String dir : pathList.split(java.io.File.pathSeparator)) {
                if (dir.isEmpty()) {
                    continue;
                }
                Path p = Path.of(dir, tool.exe);
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        throw new IllegalStateException(tool.exe + " not found: apt-get install " + tool.pkg);
    }

    /** Bits per byte of {@code target} coded alone. */
    double cold(byte[] target) {
        return primed(new byte[0], target);
    }

    /** Bits per byte of {@code target} coded after {@code primer} in the same stream. */
    double primed(byte[] primer, byte[] target) {
        if (target.length == 0) {
            throw new IllegalArgumentException("empty target");
        }
        byte[] joint = new byte[primer.length + target.length];
        System.arraycopy(primer, 0, joint, 0, primer.length);
        System.arraycopy(target, 0, joint, primer.length, target.length);
        long base = primer.length == 0 ? 0 : codeBytes(primer);
        return 8.0 * (codeBytes(joint) - base) / target.length;
    }

    /** Size in bytes of the peer's code for {@code data} (memoised). */
    long codeBytes(byte[] data) {
        String key = org.hope4j.bundle.Bundle.sha256(data);
        Long cached = sizes.get(key);
        if (cached != null) {
            return cached;
        }
        long n;
        Path tmp = null;
        try {
            tmp = Files.createTempDirectory("hope4j-peers-");
            if (tool == Tool.PPMD) {
                run(tmp, data, exe.toString(), "a", "-bd", "-bso0", "-bsp0", "-y", "-m0=" + PPMD_METHOD, "-sidata", "a.7z");
                n = packedSize(run(tmp, null, exe.toString(), "l", "-slt", "a.7z"));
            } else {
                Files.write(tmp.resolve("data"), data);
                run(tmp, null, exe.toString(), "add", "a.zpaq", "data", "-m" + ZPAQ_METHOD, "-threads", "1");
                long[] pb = zpaqPayload(Files.readAllBytes(tmp.resolve("a.zpaq")));
                if (pb[1] != 1 && data.length > 0) {
                    throw new IllegalStateException("zpaq: " + data.length + " bytes took " + pb[1] + " blocks; a primer would not act on the target");
                }
                n = pb[0];
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteTree(tmp);
        }
        sizes.put(key, n);
        return n;
    }

    /** Runs a command in {@code dir} with {@code stdin} (or none); its standard output, or an IllegalStateException. */
    private static String run(Path dir, byte[] stdin, String... cmd) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("LC_ALL", "C");
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        Process p = pb.start();
        // feed stdin on its own thread while this one drains the output, so neither pipe fills
        Thread feeder = null;
        if (stdin != null) {
            feeder = new Thread(() -> {
                try (OutputStream os = p.getOutputStream()) {
                    os.write(stdin);
                } catch (IOException e) {
                    // the process ended early: its exit code says why
                }
            }, "peers-stdin");
            feeder.start();
        }
        String out;
        try (InputStream is = p.getInputStream()) {
            out = new String(is.readAllBytes(), StandardCharsets.UTF_8);
        }
        try {
            int rc = p.waitFor();
            if (feeder != null) {
                feeder.join();
            }
            if (rc != 0) {
                String[] lines = out.strip().split("\n");
                throw new IllegalStateException(Path.of(cmd[0]).getFileName() + " failed (" + rc + "): " + lines[lines.length - 1]);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + cmd[0], e);
        }
        return out;
    }

    /** The 'Packed Size' of the only file of a {@code 7zz l -slt} listing. */
    static long packedSize(String listing) {
        int sep = listing.indexOf("\n----------\n");
        String files = sep < 0 ? "" : listing.substring(sep);
        Matcher m = PACKED.matcher(files);
        List<Long> found = new ArrayList<>();
        while (m.find()) {
            found.add(Long.parseLong(m.group(1)));
        }
        if (found.size() != 1 || !listing.contains("Method = PPMD")) {
            throw new IllegalStateException("unexpected 7zz listing: " + found.size() + " packed sizes");
        }
        return found.get(0);
    }

    /**
     * {coded payload bytes of the data blocks, number of data blocks} of a zpaq 7 journaling archive. A
     * block: locator tag and "zPQ", level, type, header size (2 bytes, little endian), the header; a
     * segment: 1, name NUL, comment NUL, 0, the coded data closed by four zero bytes, 253 and a SHA-1
     * (or 254); 255 ends the block. Data blocks have segment names {@code jDC<date>d<number>}.
     */
    static long[] zpaqPayload(byte[] a) {
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i + ZPAQ_TAG.length <= a.length; i++) {
            if (matchesTag(a, i)) {
                starts.add(i);
                i += ZPAQ_TAG.length - 1;
            }
        }
        if (starts.isEmpty() || starts.get(0) != 0) {
            throw new IllegalStateException("not a zpaq journaling archive");
        }
        starts.add(a.length);
        long total = 0;
        long blocks = 0;
        for (int b = 0; b + 1 < starts.size(); b++) {
            int from = starts.get(b);
            int to = starts.get(b + 1);
            int hsize = (a[from + 18] & 0xff) | (a[from + 19] & 0xff) << 8;
            int s = from + 20 + hsize;
            if (s + 4 > to || a[s] != 1) {
                throw new IllegalStateException("zpaq block without a segment");
            }
            int nameEnd = indexOfZero(a, s + 1, to);
            int commentEnd = indexOfZero(a, nameEnd + 1, to);
            int dataStart = commentEnd + 2;
            String name = new String(a, s + 1, nameEnd - s - 1, StandardCharsets.ISO_8859_1);
            if (!ZPAQ_DATA_NAME.matcher(name).matches()) {
                continue;
            }
            if ((a[to - 1] & 0xff) != 255) {
                throw new IllegalStateException("zpaq data block does not end with 255");
            }
            int trail = to - from >= 22 && (a[to - 22] & 0xff) == 253 ? 22 : (a[to - 2] & 0xff) == 254 ? 2 : -1;
            if (trail < 0 || a[to - trail - 1] != 0 || a[to - trail - 2] != 0 || a[to - trail - 3] != 0 || a[to - trail - 4] != 0) {
                throw new IllegalStateException("zpaq data block: no end of segment");
            }
            total += to - trail - 4 - dataStart;
            blocks++;
        }
        return new long[] {total, blocks};
    }

    private static boolean matchesTag(byte[] a, int i) {
        for (int k = 0; k < ZPAQ_TAG.length; k++) {
            if (a[i + k] != ZPAQ_TAG[k]) {
                return false;
            }
        }
        return true;
    }

    private static int indexOfZero(byte[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            if (a[i] == 0) {
                return i;
            }
        }
        throw new IllegalStateException("zpaq segment header not terminated");
    }

    private static void deleteTree(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a temporary folder left behind is not worth failing a measurement for
        }
    }
}
