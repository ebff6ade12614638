package org.hope4j.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.hope4j.bundle.Bundle;
import org.hope4j.samples.ServiceClient;
import org.hope4j.samples.ServiceClient.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hope4j serve} as a process: the API end to end over its Unix socket, bad requests, clients in
 * parallel, kill -9 and SIGTERM, the token of the loopback listener, and no network listener by default.
 * The service is started with idle sleep off (a test never waits on a clock) and its E level off
 * (smaller learners; E's own behaviour is tested elsewhere).
 */
class ServeIT {
    static byte[] prose;
    static byte[] other;

    @TempDir
    Path tmp;
    private final List<Process> started = new ArrayList<>();

    @BeforeAll
    static void texts() {
        byte[] probe = Bundle.loadDefault().bytes("probe.txt");
        prose = java.util.Arrays.copyOf(probe, 3000);
        other = java.util.Arrays.copyOfRange(probe, 3000, 4000);
    }

    @AfterEach
    void stopAll() throws Exception {
        for (Process p : started) {
            p.destroyForcibly();
            p.waitFor(60, TimeUnit.SECONDS);
        }
    }

    Process serve(Path root, String... extra) throws Exception {
        return serveWith(List.of("-Xmx512m"), root, extra);
    }

    Process serveWith(List<String> jvm, Path root, String... extra) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "org.hope4j.device.Main", "serve",
                "--state-root", root.toString(), "--socket", root.resolve("s.sock").toString(), "--no-idle-sleep", "--no-episodic"));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("serve-" + started.size() + ".log").toFile()).start();
        started.add(p);
        Path sock = root.resolve("s.sock");
        // wait for the socket to answer (bounded by attempts; nothing is asserted on time)
        for (int i = 0; i < 1200 && !answers(sock); i++) {
            assertTrue(p.isAlive(), () -> "serve exited: " + log());
            Thread.sleep(100);
        }
        assertTrue(answers(sock), () -> "serve never answered: " + log());
        return p;
    }

    private String log() {
        try (var s = Files.list(tmp)) {
            StringBuilder sb = new StringBuilder();
            for (Path f : s.filter(f -> f.getFileName().toString().startsWith("serve-")).sorted().toList()) {
                sb.append(Files.readString(f));
            }
            return sb.toString();
        } catch (IOException e) {
            return e.toString();
        }
    }

    static boolean answers(Path sock) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            return ch.connect(UnixDomainSocketAddress.of(sock));
        } catch (IOException e) {
            return false;
        }
    }

    static JsonObject json(Response r) {
        return JsonParser.parseString(r.text()).getAsJsonObject();
    }

    static String errorCode(Response r) {
        return json(r).getAsJsonObject("error").get("code").getAsString();
    }

    @Test
    void theApiLearnsScoresGeneratesAndTakesBackWhatItLearned() throws Exception {
        Path root = tmp.resolve("root");
        serve(root);
        ServiceClient c = new ServiceClient(root.resolve("s.sock"));
        assertEquals(201, c.request("PUT", "/v1/profiles/alice", null).status());
        assertEquals(200, c.request("PUT", "/v1/profiles/alice", null).status(), "creating twice is not an error");
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("profiles/alice"))));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("s.sock"))));

        double before = json(c.request("POST", "/v1/profiles/alice/score", other)).get("bits_per_byte").getAsDouble();
        JsonObject o = json(c.request("POST", "/v1/profiles/alice/observe", prose).ok());
        assertEquals(prose.length, o.get("bytes").getAsLong());
        assertTrue(json(c.request("GET", "/v1/profiles/alice", null)).get("position").getAsLong() == prose.length);
        c.snapshot("alice", "before-notes");
        double afterOne = json(c.request("POST", "/v1/profiles/alice/score", other)).get("bits_per_byte").getAsDouble();
        assertTrue(afterOne < before, "learning the prose helps the rest of it: " + afterOne + " vs " + before);

        byte[] gen = c.request("POST", "/v1/profiles/alice/generate?bytes=48&seed=7", "The ".getBytes(StandardCharsets.UTF_8)).ok().body();
        assertEquals(48, gen.length);
        assertArrayEquals(gen, c.request("POST", "/v1/profiles/alice/generate?bytes=48&seed=7", "The ".getBytes(StandardCharsets.UTF_8)).body(),
                "generate changes nothing: the same seed gives the same bytes");

        c.request("POST", "/v1/profiles/alice/observe", "zzzz qqqq zzzz qqqq ".repeat(100).getBytes(StandardCharsets.UTF_8)).ok();
        assertTrue(json(c.request("POST", "/v1/profiles/alice/score", other)).get("bits_per_byte").getAsDouble() != afterOne);
        c.undo("alice", "before-notes");
        assertEquals(afterOne, json(c.request("POST", "/v1/profiles/alice/score", other)).get("bits_per_byte").getAsDouble(), 1e-12,
                "undo takes back exactly what was read since the snapshot");
        assertEquals(List.of("before-notes"), List.of(json(c.request("GET", "/v1/profiles/alice/snapshots", null)).getAsJsonArray("snapshots")
                .get(0).getAsString()));

        // export, import into another profile: the same learner
        byte[] zip = c.request("GET", "/v1/profiles/alice/export", null).ok().body();
        assertEquals(200, c.request("PUT", "/v1/profiles/bob/import", zip).status());
        assertEquals(afterOne, json(c.request("POST", "/v1/profiles/bob/score", other)).get("bits_per_byte").getAsDouble(), 1e-12);
        assertEquals("bad_archive", errorCode(c.request("PUT", "/v1/profiles/bob/import", "not a zip".getBytes(StandardCharsets.UTF_8))));
        assertEquals(afterOne, json(c.request("POST", "/v1/profiles/bob/score", other)).get("bits_per_byte").getAsDouble(), 1e-12,
                "a refused import changes nothing");

        // delete erases
        assertEquals(200, c.request("DELETE", "/v1/profiles/bob", null).status());
        assertFalse(Files.exists(root.resolve("profiles/bob")));
        assertEquals(404, c.request("POST", "/v1/profiles/bob/score", other).status());

        String metrics = c.request("GET", "/metrics", null).ok().text();
        assertTrue(metrics.contains("hope4j_bytes_learned_total{profile=\"alice\"}"), metrics);
        assertTrue(metrics.contains("hope4j_request_seconds_count{endpoint=\"observe\",status=\"200\"}"), metrics);
        assertTrue(metrics.contains("hope4j_level_updates{level=\"L1\",profile=\"alice\"}"), metrics);

        // the notes sample through the service: learns into its own profile, and its import can be undone
        Path note = tmp.resolve("note.txt");
        Files.write(note, other);
        StringBuilder completion = new StringBuilder();
        String answer = org.hope4j.samples.ServiceNotes.run(c, "notes", List.of(note), "The ", completion);
        assertEquals(other.length, JsonParser.parseString(answer).getAsJsonObject().get("bytes").getAsLong(), answer);
        assertFalse(completion.isEmpty(), "the sample completes its prompt");
        c.undo("notes", "before-import");
        assertEquals(0, json(c.request("GET", "/v1/profiles/notes", null)).get("position").getAsLong());

        // the Python client (standard library only) talks to the same service
        Path client = Path.of(System.getProperty("user.dir")).getParent().resolve("samples/python/hope4j_client.py");
        Process py = new ProcessBuilder("python3", client.toString(), "--socket", root.resolve("s.sock").toString(), "status", "alice")
                .redirectErrorStream(true).start();
        String out = new String(py.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, py.waitFor(), out);
        assertEquals(prose.length, JsonParser.parseString(out.strip()).getAsJsonObject().get("position").getAsLong(), out);
    }

    @Test
    void badRequestsGetJsonErrorsWithStableCodesAndTheServiceCarriesOn() throws Exception {
        Path root = tmp.resolve("root");
        serve(root, "--max-body", "4096");
        ServiceClient c = new ServiceClient(root.resolve("s.sock"));
        c.createProfile("p1");
        for (String bad : List.of("Upper", "a.b", "..", "%2e%2e", "-lead", "x".repeat(65), "a%2Fb")) {
            Response r = c.request("PUT", "/v1/profiles/" + bad, null);
            assertTrue(r.status() == 400 || r.status() == 404, bad + ": " + r.status() + " " + r.text());
            if (r.status() == 400 && r.headers().getOrDefault("content-type", "").startsWith("application/json")) {
                assertTrue(errorCode(r).startsWith("bad_") || errorCode(r).equals("not_found"), r.text());
            }
        }
        assertEquals(1, Files.list(root.resolve("profiles")).count(), "no bad name made a directory");
        assertEquals("not_found", errorCode(c.request("POST", "/v1/profiles/nobody/observe", prose)));
        assertEquals("body_too_large", errorCode(c.request("POST", "/v1/profiles/p1/observe", new byte[5000])));
        assertEquals("bad_parameter", errorCode(c.request("POST", "/v1/profiles/p1/generate?bytes=lots", null)));
        assertEquals("bad_parameter", errorCode(c.request("POST", "/v1/profiles/p1/generate?bytes=-1", null)));
        assertEquals("method_not_allowed", errorCode(c.request("GET", "/v1/profiles/p1/observe", null)));
        assertEquals("not_found", errorCode(c.request("GET", "/v2/status", null)));
        // a truncated body (the client announces more than it sends, then goes away) and garbage bytes
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(root.resolve("s.sock")));
            ch.write(ByteBuffer.wrap(("POST /v1/profiles/p1/observe HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\nonly a little")
                    .getBytes(StandardCharsets.US_ASCII)));
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(root.resolve("s.sock")));
            ch.write(ByteBuffer.wrap(new byte[] {0, 1, 2, (byte) 0xff, '\r', '\n', '\r', '\n'}));
            ch.shutdownOutput();
            ch.read(ByteBuffer.allocate(1024));
        }
        Response ok = c.request("POST", "/v1/profiles/p1/observe", prose);
        assertEquals(200, ok.status(), ok.text());
        long pos = json(c.request("GET", "/v1/profiles/p1", null)).get("position").getAsLong();
        assertTrue(pos == prose.length || pos == prose.length + 13, "the truncated request learned all or nothing of its 13 bytes: " + pos);
    }

    @Test
    void aClientThatTricklesItsBodyDoesNotHoldItsProfile() throws Exception {
        Path root = tmp.resolve("root");
        serve(root);
        ServiceClient c = new ServiceClient(root.resolve("s.sock"));
        c.createProfile("p1");
        byte[] slowBody = java.util.Arrays.copyOf(prose, 1000);
        try (SocketChannel slow = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            slow.connect(UnixDomainSocketAddress.of(root.resolve("s.sock")));
            // an observe whose body stops after 100 of its 1,000 bytes: the client is slow, not gone
            slow.write(ByteBuffer.wrap(("POST /v1/profiles/p1/observe HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII)));
            slow.write(ByteBuffer.wrap(slowBody, 0, 100));
            // meanwhile another client of the same profile learns and scores (this used to wait for the slow body:
            // the whole observe held the profile); the bound on get is a hang guard only
            ExecutorService ex = Executors.newSingleThreadExecutor();
            try {
                Future<Long> fast = ex.submit(() -> {
                    assertEquals(200, c.request("POST", "/v1/profiles/p1/observe", java.util.Arrays.copyOf(other, 500)).status());
                    assertEquals(200, c.request("POST", "/v1/profiles/p1/score", java.util.Arrays.copyOf(other, 200)).status());
                    return json(c.request("GET", "/v1/profiles/p1", null)).get("position").getAsLong();
                });
                assertEquals(500L, fast.get(10, TimeUnit.MINUTES), "the other client's bytes, and none of the unfinished body's");
            } finally {
                ex.shutdownNow();
            }
            // the slow client finishes: its whole body is learned too
            slow.write(ByteBuffer.wrap(slowBody, 100, 900));
            ByteBuffer answer = ByteBuffer.allocate(4096);
            while (!new String(answer.array(), 0, answer.position(), StandardCharsets.US_ASCII).contains("}") && slow.read(answer) >= 0) {
                // the response is one JSON object
            }
            String text = new String(answer.array(), 0, answer.position(), StandardCharsets.US_ASCII);
            assertTrue(text.startsWith("HTTP/1.1 200"), text);
        }
        assertEquals(1500L, json(c.request("GET", "/v1/profiles/p1", null)).get("position").getAsLong());
    }

    @Test
    void moreStalledClientsThanRequestThreadsDoNotStarveTheOthers() throws Exception {
        Path root = tmp.resolve("root");
        // 16 request threads (the default) and 40 clients whose bodies stop after 100 of their 300 bytes; the long
        // idle timeout keeps them from being closed while the test runs
        serve(root, "--request-threads", "16", "--idle-timeout-seconds", "3600");
        ServiceClient c = new ServiceClient(root.resolve("s.sock"));
        c.createProfile("p1");
        c.createProfile("p2");
        String[] kinds = {"observe", "score", "generate?bytes=4"};
        byte[] body = java.util.Arrays.copyOf(prose, 300);
        List<SocketChannel> stalled = new ArrayList<>();
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try {
            for (int i = 0; i < 40; i++) {
                SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                stalled.add(ch);
                ch.connect(UnixDomainSocketAddress.of(root.resolve("s.sock")));
                ch.write(ByteBuffer.wrap(("POST /v1/profiles/p1/" + kinds[i % 3] + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        + "Content-Length: 300\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
                ch.write(ByteBuffer.wrap(body, 0, 100));
            }
            // while all 40 wait for their bodies, another client is answered (each used to hold a request thread, and
            // 16 of them starved every other request); the bound on get is a hang guard only
            Future<Long> fast = ex.submit(() -> {
                assertEquals(200, c.request("POST", "/v1/profiles/p2/observe", java.util.Arrays.copyOf(other, 500)).status());
                assertEquals(200, c.request("POST", "/v1/profiles/p2/score", java.util.Arrays.copyOf(other, 200)).status());
                assertEquals(200, c.request("GET", "/v1/status", null).status());
                return json(c.request("GET", "/v1/profiles/p2", null)).get("position").getAsLong();
            });
            assertEquals(500L, fast.get(10, TimeUnit.MINUTES));
            // then each stalled client sends the rest and gets its whole answer
            for (SocketChannel ch : stalled) {
                ch.write(ByteBuffer.wrap(body, 100, 200));
            }
            for (int i = 0; i < stalled.size(); i++) {
                ByteBuffer answer = ByteBuffer.allocate(8192);
                while (stalled.get(i).read(answer) >= 0 && answer.hasRemaining()) {
                    // Connection: close: the answer ends where the stream does
                }
                String text = new String(answer.array(), 0, answer.position(), StandardCharsets.ISO_8859_1);
                assertTrue(text.startsWith("HTTP/1.1 200"), kinds[i % 3] + ": " + text);
                if (i % 3 == 0) {
                    assertTrue(text.contains("\"bytes\":300"), text);
                }
            }
        } finally {
            ex.shutdownNow();
            for (SocketChannel ch : stalled) {
                ch.close();
            }
        }
        // the 14 observes were learned whole, nothing of the scores and generations
        assertEquals(14 * 300L, json(c.request("GET", "/v1/profiles/p1", null)).get("position").getAsLong());
    }

    @Test
    void clientsInParallelOnSeveralProfilesEachLearnEverythingTheySent() throws Exception {
        Path root = tmp.resolve("root");
        serve(root, "--max-open", "2");
        ServiceClient c = new ServiceClient(root.resolve("s.sock"));
        List<String> names = List.of("a", "b", "c");
        for (String n : names) {
            c.createProfile(n);
        }
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<Future<Integer>> fs = new ArrayList<>();
        for (int k = 0; k < 12; k++) {
            String n = names.get(k % 3);
            byte[] piece = java.util.Arrays.copyOfRange(prose, (k % 4) * 500, (k % 4) * 500 + 500);
            fs.add(pool.submit(() -> {
                Response r = c.request("POST", "/v1/profiles/" + n + "/observe", piece);
                c.request("POST", "/v1/profiles/" + n + "/score", other).ok();
                return r.status();
            }));
        }
        for (Future<Integer> f : fs) {
            assertEquals(200, f.get());
        }
        pool.shutdown();
        for (String n : names) {
            assertEquals(4 * 500, json(c.request("GET", "/v1/profiles/" + n, null)).get("position").getAsLong(), n);
        }
        assertTrue(json(c.request("GET", "/v1/status", null)).getAsJsonArray("open").size() <= 2, "--max-open bounds the open learners");
    }

    @Test
    void sigtermSavesEveryProfileAndKillNineLosesOnlyTheUnsaved() throws Exception {
        Path root = tmp.resolve("root");
        Process p = serve(root);
        ServiceClient c = new ServiceClient(root.resolve("s.sock"));
        c.createProfile("p");
        c.request("POST", "/v1/profiles/p/observe", prose).ok(); // below --save-every: not saved yet
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "serve did not stop on SIGTERM");
        assertFalse(Files.exists(root.resolve("s.sock")), "the socket is removed");

        Process q = serve(root);
        assertEquals(prose.length, json(c.request("GET", "/v1/profiles/p", null)).get("position").getAsLong(), "SIGTERM saved the profile");
        c.request("POST", "/v1/profiles/p/save", null).ok();
        c.request("POST", "/v1/profiles/p/observe", other).ok(); // unsaved
        q.destroyForcibly(); // kill -9
        q.waitFor(60, TimeUnit.SECONDS);

        serve(root); // a dead service's socket is replaced
        assertEquals(prose.length, json(c.request("GET", "/v1/profiles/p", null)).get("position").getAsLong(),
                "kill -9 lost exactly the input since the last save, and the saved state loads");
    }

    @Test
    void nothingListensOnTheNetworkUnlessAskedAndTheLoopbackListenerWantsTheToken() throws Exception {
        Path root = tmp.resolve("root");
        Process p = serve(root);
        assertTrue(listeningAddresses(p.pid()).isEmpty(), "serve listens on no TCP/UDP address by default");
        p.destroy();
        p.waitFor(120, TimeUnit.SECONDS);

        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path root2 = tmp.resolve("root2");
        Process q = serve(root2, "--tcp-port", Integer.toString(port));
        String token = Files.readString(root2.resolve("token")).strip();
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(root2.resolve("token"))));
        assertTrue(http(port, null).startsWith("HTTP/1.1 401"), "no token, no answer");
        assertTrue(http(port, "wrong" + token).startsWith("HTTP/1.1 401"));
        assertTrue(http(port, token).startsWith("HTTP/1.1 200"));
        for (String addr : listeningAddresses(q.pid())) {
            // 127.0.0.1 in /proc/net/tcp, or as an IPv4-mapped address in tcp6
            assertTrue(addr.startsWith("0100007F:") || addr.startsWith("0000000000000000FFFF00000100007F:"), "TCP listens on loopback only, found " + addr);
        }
    }

    @Test
    void anotherUserCannotReachTheSocket() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to run a client as another user");
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/runuser")) || Files.isExecutable(Path.of("/sbin/runuser")), "needs runuser");
        Path root = Files.createDirectories(Path.of("/tmp").resolve("hope4j-serve-it-" + ProcessHandle.current().pid()));
        try {
            Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            serve(root);
            Process other = new ProcessBuilder("runuser", "-u", "nobody", "--", "python3", "-c",
                    "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1]); print('connected')\nexcept OSError as e:\n print('refused', e)",
                    root.resolve("s.sock").toString()).redirectErrorStream(true).start();
            String out = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            other.waitFor();
            assertTrue(out.startsWith("refused"), out);
        } finally {
            for (Process p : started) {
                p.destroy();
                p.waitFor(120, TimeUnit.SECONDS);
            }
            try (var w = Files.walk(root)) {
                for (Path f : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    @Test
    void aShortSoakRunsWithoutErrorsAndWithoutGrowingMemory() throws Exception {
        Path root = tmp.resolve("root");
        // the heap committed and touched up front: what could grow is the service's own native and heap use
        Process p = serveWith(List.of("-Xms448m", "-Xmx448m", "-XX:+AlwaysPreTouch"), root);
        ServiceClient c = new ServiceClient(root.resolve("s.sock"));
        int rounds = 20;
        List<Long> rss = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<Integer>> fs = new ArrayList<>();
        for (int k = 0; k < 2; k++) {
            String prof = "/v1/profiles/soak" + k;
            c.createProfile("soak" + k);
            int kk = k;
            fs.add(pool.submit(() -> {
                int errors = 0;
                for (int r = 0; r < rounds; r++) {
                    int off = (r * 151 + kk * 977) % (prose.length - 1024);
                    errors += c.request("POST", prof + "/observe", java.util.Arrays.copyOfRange(prose, off, off + 1024)).status() == 200 ? 0 : 1;
                    errors += c.request("POST", prof + "/score", other).status() == 200 ? 0 : 1;
                    errors += c.request("POST", prof + "/generate?bytes=32&seed=" + r, null).status() == 200 ? 0 : 1;
                    if (r % 5 == 4) {
                        errors += c.request("PUT", prof + "/snapshots/s", null).status() == 200 ? 0 : 1;
                        errors += c.request("POST", prof + "/snapshots/s/restore", null).status() == 200 ? 0 : 1;
                    }
                    if (kk == 0) {
                        rss.add(rssKb(p.pid()));
                    }
                }
                return errors;
            }));
        }
        int errors = 0;
        for (Future<Integer> f : fs) {
            errors += f.get();
        }
        pool.shutdown();
        assertEquals(0, errors);
        long first = java.util.Collections.max(rss.subList(0, rounds / 4));
        long last = java.util.Collections.max(rss.subList(rounds - rounds / 4, rounds));
        assertTrue(last <= first * 1.05 + 16 * 1024, "RSS grew from " + first + " KB to " + last + " KB: " + rss);
    }

    static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS for " + pid);
    }

    private static String http(int port, String token) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port));
            OutputStream o = s.getOutputStream();
            o.write(("GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
                    + "\r\n").getBytes(StandardCharsets.US_ASCII));
            o.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** Socket inodes the process holds. */
    private static Set<String> inodes(long pid) throws IOException {
        Set<String> out = new HashSet<>();
        try (var s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : s.toList()) {
                try {
                    String t = Files.readSymbolicLink(fd).toString();
                    if (t.startsWith("socket:[")) {
                        out.add(t.substring(8, t.length() - 1));
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        return out;
    }

    /** Local addresses of the process's listening TCP sockets and its UDP sockets (from /proc/net). */
    private static List<String> listeningAddresses(long pid) throws IOException {
        Set<String> mine = inodes(pid);
        List<String> out = new ArrayList<>();
        for (String table : List.of("tcp", "tcp6", "udp", "udp6")) {
            Path f = Path.of("/proc/net", table);
            if (!Files.exists(f)) {
                continue;
            }
            List<String> lines = Files.readAllLines(f);
            for (String line : lines.subList(1, lines.size())) {
                String[] c = line.trim().split("\\s+");
                boolean listening = table.startsWith("udp") || c[3].equals("0A");
                if (listening && mine.contains(c[9])) {
                    out.add(c[1]);
                }
            }
        }
        return out;
    }
}
