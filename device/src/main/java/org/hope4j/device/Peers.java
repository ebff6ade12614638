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
 *
 * <p>zpaq {@code -m5} chooses its model from the block it codes (table sizes from the block's size, a
 * word model for text, periodic models from byte repetition gaps), so the primer alone would get
 * another model than primer + target. Primed, the primer is coded with the model that -m5 chose for
 * primer + target, rebuilt as libzpaq 7.15 builds it ({@link #zpaqLevel5Method}) and passed as an
 * explicit {@code -method x...}.
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
                    + " segment name, SHA-1 and journaling blocks excluded); primed: the primer coded with the model -m5 chose for"
                    + " primer + target (explicit -method x...)";
        }
    }

    static final String PPMD_METHOD = "PPMd:o=8:mem=256m";
    static final String ZPAQ_METHOD = "5";
    private static final byte[] ZPAQ_TAG = {0x37, 0x6b, 0x53, 0x74, (byte) 0xa0, 0x31, (byte) 0x83, (byte) 0xd3, (byte) 0x8c, (byte) 0xb2, 0x28,
        (byte) 0xb0, (byte) 0xd3, 'z', 'P', 'Q'};
    private static final Pattern ZPAQ_DATA_NAME = Pattern.compile("jDC\\d{14}d\\d{10}");
    private static final Pattern PACKED = Pattern.compile("(?m)^Packed Size = (\\d+)$");
    private static final Pattern ZPAQ_PRINTED = Pattern.compile("\\] (\\d+) -method (\\S+)");

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
        long size = codeBytes(joint);
        long base = 0;
        if (primer.length > 0) {
            base = tool == Tool.PPMD ? codeBytes(primer) : codeBytes(primer, zpaqModelOf(joint));
        }
        return 8.0 * (size - base) / target.length;
    }

    /** The explicit method -m5 chose for each input coded (zpaq), by its SHA-256. */
    private final Map<String, String> zpaqJointMethod = new HashMap<>();

    /** The explicit zpaq method that -m5 chose for {@code data} (coding it first if need be). */
    String zpaqModelOf(byte[] data) {
        codeBytes(data);
        String m = zpaqJointMethod.get(org.hope4j.bundle.Bundle.sha256(data));
        if (m == null) {
            throw new IllegalStateException("zpaq -m5 printed no method for " + data.length + " bytes");
        }
        return m;
    }

    /** Size in bytes of the peer's code for {@code data} (memoised). */
    long codeBytes(byte[] data) {
        return codeBytes(data, ZPAQ_METHOD);
    }

    /** Size in bytes of the peer's code for {@code data}, for zpaq with the given method (memoised). */
    long codeBytes(byte[] data, String zpaqMethod) {
        String sha = org.hope4j.bundle.Bundle.sha256(data);
        String key = tool == Tool.PPMD ? sha : sha + " " + zpaqMethod;
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
                String out = run(tmp, null, exe.toString(), "add", "a.zpaq", "data", "-method", zpaqMethod, "-threads", "1");
                long[] pb = zpaqPayload(Files.readAllBytes(tmp.resolve("a.zpaq")));
                if (pb[1] != 1 && data.length > 0) {
                    throw new IllegalStateException("zpaq: " + data.length + " bytes took " + pb[1] + " blocks; a primer would not act on the target");
                }
                n = pb[0];
                Matcher m = ZPAQ_PRINTED.matcher(out);
                if (zpaqMethod.equals(ZPAQ_METHOD) && m.find()) {
                    String[] args = m.group(2).split(",");
                    zpaqJointMethod.put(sha, zpaqLevel5Method(data, Long.parseLong(m.group(1)), Integer.parseInt(args[args.length - 1])));
                }
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

    /**
     * The explicit method that zpaq 7.15's {@code -m5} builds for a block (libzpaq {@code compressBlock}):
     * {@code blockBytes} is the block's size as zpaq prints it (data and fragment table), {@code typeFlags}
     * the last number of the method it prints (1: text, 2: x86); periodic models are found on {@code data}.
     */
    static String zpaqLevel5Method(byte[] data, long blockBytes, int typeFlags) {
        int arg0 = Math.max(64 - Long.numberOfLeadingZeros(blockBytes + 4095) - 20, 0);
        StringBuilder m = new StringBuilder("x").append(arg0).append(',').append((typeFlags & 2) != 0 ? 4 : 0);
        m.append((typeFlags & 1) != 0 ? "w2c0,1010,255i1" : "w1i1");
        m.append("c256ci1,1,1,1,1,1,2a");
        final int nr = 1 << 12;
        long[] r = new long[nr];
        int[] pt = new int[256];
        for (int i = 0; i < data.length; i++) {
            int b = data[i] & 0xff;
            int k = i - pt[b];
            if (k > 0 && k < nr) {
                r[k]++;
            }
            pt[b] = i;
        }
        long n1 = data.length - r[1] - r[2] - r[3];
        for (int pass = 0; pass < 2; pass++) {
            int period = 0;
            double score = 0;
            long t = 0;
            for (int j = 5; j < nr && t < n1; j++) {
                double sc = r[j] / (256.0 + n1 - t);
                if (sc > score) {
                    score = sc;
                    period = j;
                }
                t += r[j];
            }
            if (period > 4 && score > 0.1) {
                m.append("c0,0,").append(999 + period).append(",255i1");
                if (period <= 255) {
                    m.append("c0,").append(period).append("i1");
                }
                n1 -= r[period];
                r[period] = 0;
            } else {
                break;
            }
        }
        return m.append("c0,2,0,255i1c0,3,0,0,255i1c0,4,0,0,0,255i1mm16ts19t0").toString();
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
