package org.hope4j.device.serve;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.hope4j.HopeException;
import org.hope4j.Learner;
import org.hope4j.Sampling;
import org.hope4j.Score;
import org.hope4j.sleep.SleepBudget;
import org.hope4j.sleep.SleepConfig;
import org.hope4j.sleep.SleepReport;
import org.hope4j.sleep.SleepRequest;

/**
 * The HTTP/1.1 + JSON API of {@code hope4j serve} (README, "The local learning service"). Errors are
 * {@code {"error": {"code": ..., "message": ...}}} with a stable code. Request bodies are bounded by
 * {@code maxBody}; requests over TCP must carry the bearer token.
 */
final class ApiHandler extends Handler.Abstract {
    private static final Logger LOG = System.getLogger(ApiHandler.class.getName());
    private static final Gson GSON = new Gson();

    private final Profiles profiles;
    private final ServeMetrics metrics;
    private final long maxBody;
    private final byte[] token;
    private final long started = System.nanoTime();
    private final java.util.function.BooleanSupplier stopping;

    /**
     * @param token the bearer token TCP requests must carry, or null when there is no TCP listener
     * @param stopping true once the service stops: a running sleep is preempted
     */
    ApiHandler(Profiles profiles, ServeMetrics metrics, long maxBody, String token, java.util.function.BooleanSupplier stopping) {
        this.stopping = stopping;
        this.profiles = profiles;
        this.metrics = metrics;
        this.maxBody = maxBody;
        this.token = token == null ? null : token.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        long t0 = System.nanoTime();
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        String endpoint = "unknown";
        try {
            if (request.getConnectionMetaData().getConnector() instanceof ServerConnector) {
                checkToken(request);
            }
            String[] p = path.split("/", -1);
            endpoint = endpoint(method, p);
            if (readsBody(method, p)) {
                // the body is read without holding a thread while the client is slow (BodyReader); the request
                // goes on, and its metrics are recorded, on the thread that reads the body's end
                String ep = endpoint;
                if (request.getLength() > maxBody) {
                    throw tooLarge(maxBody, request.getLength());
                }
                if (p[4].equals("observe")) {
                    observe(Profiles.checkName("profile", p[3]), request, response, callback, ep, t0);
                } else {
                    BodyReader.readAll(request, maxBody, new BodyReader.Whole() {
                        @Override
                        public void body(byte[] body) {
                            int status;
                            try {
                                status = route(method, p, request, body, response, callback);
                            } catch (Throwable e) {
                                status = answerFailure(e, response, callback, method, path);
                            }
                            metrics.request(ep, status, System.nanoTime() - t0);
                        }

                        @Override
                        public void failed(Throwable failure) {
                            metrics.request(ep, answerFailure(failure, response, callback, method, path), System.nanoTime() - t0);
                        }
                    });
                }
                return true;
            }
            metrics.request(endpoint, route(method, p, request, null, response, callback), System.nanoTime() - t0);
        } catch (Throwable e) {
            metrics.request(endpoint, answerFailure(e, response, callback, method, path), System.nanoTime() - t0);
        }
        return true;
    }

    /** The requests whose body is read asynchronously: observe, score, generate (POST) and import (PUT) of a profile. */
    private static boolean readsBody(String method, String[] p) {
        if (p.length != 5 || !p[0].isEmpty() || !p[1].equals("v1") || !p[2].equals("profiles")) {
            return false;
        }
        return switch (p[4]) {
            case "observe", "score", "generate" -> method.equals("POST");
            case "import" -> method.equals("PUT");
            default -> false;
        };
    }

    /**
     * Learns the body of an observe in 64 KiB blocks as they arrive: each block is read holding neither the
     * profile nor a processor's permit nor a thread (a client that trickles its body keeps only its own request
     * waiting), then learned holding both.
     */
    private void observe(String name, Request req, Response res, Callback cb, String endpoint, long t0) {
        profiles.with(name, e -> null); // 404 for an unknown profile before a byte is read
        Score[] total = {Score.empty()};
        BodyReader.read(req, 1 << 16, maxBody, new BodyReader.Sink() {
            @Override
            public void block(byte[] block, int n) {
                byte[] bytes = n == block.length ? block : java.util.Arrays.copyOf(block, n);
                total[0] = total[0].plus(profiles.with(name, e -> {
                    Score learned = profiles.compute(() -> e.learner.observe(bytes));
                    profiles.learned(e, learned);
                    return learned;
                }));
            }

            @Override
            public void end() {
                metrics.request(endpoint, json(res, cb, 200, score(total[0])), System.nanoTime() - t0);
            }

            @Override
            public void failed(Throwable failure) {
                metrics.request(endpoint, answerFailure(failure, res, cb, req.getMethod(), Request.getPathInContext(req)),
                        System.nanoTime() - t0);
            }
        });
    }

    /** Answers a failed request with its JSON error; returns the status. */
    private int answerFailure(Throwable e, Response response, Callback callback, String method, String path) {
        if (e instanceof UncheckedIOException u && u.getCause() != null) {
            e = u.getCause();
        }
        if (e instanceof ApiException a) {
            error(response, callback, a.status(), a.code(), a.getMessage());
            return a.status();
        }
        if (e instanceof HopeException || e instanceof IllegalArgumentException) {
            error(response, callback, 400, "refused", e.getMessage());
            return 400;
        }
        if (e instanceof IllegalStateException) {
            error(response, callback, 409, "conflict", e.getMessage());
            return 409;
        }
        if (e instanceof org.eclipse.jetty.io.EofException) {
            // the client went away mid-body: what it sent is not learned
            error(response, callback, 400, "truncated_body", "the request body ended before its announced length (of observe, only whole 64 KiB blocks read before that were learned)");
            return 400;
        }
        LOG.log(Logger.Level.ERROR, method + " " + path + " failed", e);
        error(response, callback, 500, "internal", e.getClass().getSimpleName() + ": " + e.getMessage());
        return 500;
    }

    private void checkToken(Request request) {
        String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        byte[] given = auth != null && auth.startsWith("Bearer ") ? auth.substring(7).trim().getBytes(StandardCharsets.US_ASCII) : new byte[0];
        if (token == null || !MessageDigest.isEqual(token, given)) {
            throw new ApiException(401, "unauthorized", "requests over TCP need the header 'Authorization: Bearer <token>' (the token file)");
        }
    }

    /** A low-cardinality name for metrics: the route without profile or snapshot names. */
    static String endpoint(String method, String[] p) {
        if (p.length >= 2 && p[1].equals("metrics")) {
            return "metrics";
        }
        if (p.length < 3 || !p[1].equals("v1")) {
            return "unknown";
        }
        if (p[2].equals("status")) {
            return "status";
        }
        if (p.length == 3) {
            return "profiles";
        }
        if (p.length == 4) {
            return method.toLowerCase(java.util.Locale.ROOT) + "_profile";
        }
        if (p.length >= 5 && p[4].equals("snapshots")) {
            return p.length == 7 ? "snapshot_" + p[6] : method.toLowerCase(java.util.Locale.ROOT) + "_snapshot";
        }
        return p[4];
    }

    /** Answers a request; {@code body} is its whole body where {@link #readsBody} read it first, else null. */
    private int route(String method, String[] p, Request req, byte[] body, Response res, Callback cb) throws IOException {
        if (p.length == 2 && p[1].equals("metrics") && method.equals("GET")) {
            return text(res, cb, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
        }
        if (p.length < 3 || !p[0].isEmpty() || !p[1].equals("v1")) {
            throw ApiException.notFound("no such endpoint: " + method + " " + String.join("/", p) + " (the API is under /v1)");
        }
        if (p.length == 3 && p[2].equals("status") && method.equals("GET")) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("profiles", profiles.names());
            o.put("open", profiles.openNames());
            o.put("sleeping", profiles.sleepingProfile());
            o.put("saves", profiles.saves());
            o.put("uptime_s", (System.nanoTime() - started) / 1e9);
            return json(res, cb, 200, o);
        }
        if (p.length == 3 && p[2].equals("profiles") && method.equals("GET")) {
            return json(res, cb, 200, Map.of("profiles", profiles.names()));
        }
        if (p.length < 4 || !p[2].equals("profiles")) {
            throw ApiException.notFound("no such endpoint: " + method + " " + String.join("/", p));
        }
        String name = Profiles.checkName("profile", p[3]);
        if (p.length == 4) {
            switch (method) {
                case "PUT":
                    boolean made = profiles.create(name);
                    return json(res, cb, made ? 201 : 200, Map.of("profile", name, "created", made));
                case "DELETE":
                    if (!profiles.delete(name)) {
                        throw ApiException.notFound("no profile '" + name + "'");
                    }
                    return json(res, cb, 200, Map.of("profile", name, "deleted", true));
                case "GET":
                    return json(res, cb, 200, profiles.with(name, e -> status(e)));
                default:
                    throw methodNotAllowed(method, p);
            }
        }
        String action = p[4];
        if (action.equals("snapshots")) {
            return snapshots(method, p, name, req, res, cb);
        }
        if (p.length != 5) {
            throw ApiException.notFound("no such endpoint: " + method + " " + String.join("/", p));
        }
        switch (action) {
            case "observe" -> throw methodNotAllowed(method, p); // a POST is read asynchronously (handle)
            case "score" -> {
                requirePost(method, p);
                                return json(res, cb, 200, score(profiles.with(name, e -> profiles.compute(() -> e.learner.score(body)))));
            }
            case "generate" -> {
                requirePost(method, p);
                Fields q = Request.extractQueryParameters(req);
                int n = intParam(q, "bytes", 64, 0, 1 << 20);
                Sampling s = Sampling.defaults().withTemperature(doubleParam(q, "temperature", Sampling.defaults().temperature()))
                        .withTopK(intParam(q, "top_k", Sampling.defaults().topK(), 0, 256)).withSeed(intParam(q, "seed", 0, 0, Integer.MAX_VALUE));
                                res.setStatus(200);
                res.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
                OutputStream out = Content.Sink.asOutputStream(res);
                profiles.with(name, e -> profiles.compute(() -> e.learner.generate(body, n, s, b -> {
                    try {
                        out.write(b);
                        out.flush(); // streamed: each byte as it is chosen
                    } catch (IOException ex) {
                        throw new UncheckedIOException("the client went away", ex);
                    }
                })));
                out.close();
                cb.succeeded();
                return 200;
            }
            case "save" -> {
                requirePost(method, p);
                profiles.with(name, e -> {
                    profiles.save(e);
                    return null;
                });
                return json(res, cb, 200, Map.of("profile", name, "saved", true));
            }
            case "sleep" -> {
                requirePost(method, p);
                Fields q = Request.extractQueryParameters(req);
                int steps = intParam(q, "steps", SleepConfig.defaults().steps(), 1, 100_000);
                return json(res, cb, 200, sleepNow(name, steps));
            }
            case "export" -> {
                if (!method.equals("GET")) {
                    throw methodNotAllowed(method, p);
                }
                byte[] zip = profiles.with(name, e -> StateArchive.export(profiles, e));
                res.setStatus(200);
                res.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/zip");
                res.write(true, java.nio.ByteBuffer.wrap(zip), cb);
                return 200;
            }
            case "import" -> {
                if (!method.equals("PUT")) {
                    throw methodNotAllowed(method, p);
                }
                                StateArchive.importInto(profiles, name, body);
                return json(res, cb, 200, Map.of("profile", name, "imported", true));
            }
            default -> throw ApiException.notFound("no such endpoint: " + method + " " + String.join("/", p));
        }
    }

    private JsonObject sleepNow(String name, int steps) {
        Profiles.Entry held = profiles.with(name, e -> {
            e.sleepsRunning++;
            return e;
        });
        try {
            if (!profiles.holdDevice(name)) {
                throw new ApiException(409, "device_busy", "profile " + profiles.sleepingProfile() + " is sleeping; one sleep runs at a time");
            }
            try {
                // outside the profile's lock: a request to this profile meanwhile preempts the sleep
                SleepReport r = held.learner.sleep(SleepRequest.builder().budget(SleepBudget.defaults()).config(SleepConfig.defaults().withSteps(steps)).preemptedWhen(stopping).saveTo(profiles.stateDir(name)).build());
                JsonObject o = com.google.gson.JsonParser.parseString(r.toJson()).getAsJsonObject();
                o.addProperty("profile", name);
                return o;
            } finally {
                profiles.releaseDevice(name);
            }
        } finally {
            synchronized (held) {
                held.sleepsRunning--;
            }
        }
    }

    private int snapshots(String method, String[] p, String name, Request req, Response res, Callback cb) {
        if (p.length == 5 && method.equals("GET")) {
            if (!profiles.exists(name)) {
                throw ApiException.notFound("no profile '" + name + "'");
            }
            return json(res, cb, 200, Map.of("profile", name, "snapshots", profiles.snapshots(name)));
        }
        if (p.length < 6) {
            throw methodNotAllowed(method, p);
        }
        String snap = Profiles.checkName("snapshot", p[5]);
        if (p.length == 6 && method.equals("PUT")) {
            profiles.with(name, e -> {
                profiles.snapshot(e, snap);
                return null;
            });
            return json(res, cb, 200, Map.of("profile", name, "snapshot", snap));
        }
        if (p.length == 6 && method.equals("DELETE")) {
            if (!profiles.exists(name) || !profiles.deleteSnapshot(name, snap)) {
                throw ApiException.notFound("profile " + name + " has no snapshot '" + snap + "'");
            }
            return json(res, cb, 200, Map.of("profile", name, "snapshot", snap, "deleted", true));
        }
        if (p.length == 7 && p[6].equals("restore") && method.equals("POST")) {
            long pos = profiles.with(name, e -> {
                profiles.restore(e, snap);
                return e.learner.position();
            });
            return json(res, cb, 200, Map.of("profile", name, "restored", snap, "position", pos));
        }
        throw methodNotAllowed(method, p);
    }

    private static Map<String, Object> status(Profiles.Entry e) {
        Learner l = e.learner;
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("profile", e.name);
        o.put("position", l.position());
        Map<String, Long> counts = new LinkedHashMap<>();
        l.updateCounts().forEach((k, v) -> counts.put(k.name(), v));
        o.put("update_counts", counts);
        o.put("recent_bits_per_byte", Double.isNaN(e.recentBitsPerByte) ? null : e.recentBitsPerByte);
        o.put("unsaved_bytes", e.unsavedBytes);
        o.put("sleeping", e.scheduler != null && e.scheduler.sleeping());
        o.put("last_sleep", e.scheduler == null ? null : e.scheduler.lastReport().map(r -> com.google.gson.JsonParser.parseString(r.toJson())).orElse(null));
        o.put("backend", l.backendInfo().selected());
        return o;
    }

    private static Map<String, Object> score(Score s) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("bytes", s.bytes());
        o.put("scored_bytes", s.scoredBytes());
        o.put("bits_per_byte", s.scoredBytes() == 0 ? null : s.bitsPerByte());
        o.put("rollbacks", s.rollbacks());
        return o;
    }

    private static void requirePost(String method, String[] p) {
        if (!method.equals("POST")) {
            throw methodNotAllowed(method, p);
        }
    }

    private static ApiException methodNotAllowed(String method, String[] p) {
        return new ApiException(405, "method_not_allowed", method + " is not allowed on " + String.join("/", p));
    }

    private static int intParam(Fields q, String key, int dflt, int min, int max) {
        String v = q.getValue(key);
        if (v == null) {
            return dflt;
        }
        try {
            int x = Integer.parseInt(v);
            if (x < min || x > max) {
                throw ApiException.badRequest("bad_parameter", key + " must be in " + min + ".." + max + ", found " + x);
            }
            return x;
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("bad_parameter", key + " must be an integer, found '" + v + "'");
        }
    }

    private static double doubleParam(Fields q, String key, double dflt) {
        String v = q.getValue(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("bad_parameter", key + " must be a number, found '" + v + "'");
        }
    }

    /** The 413 of a body over {@code maxBody}: {@code n} is its declared length, or what was read of it so far. */
    static ApiException tooLarge(long maxBody, long n) {
        return new ApiException(413, "body_too_large", "request bodies are limited to " + maxBody + " bytes (--max-body); this one has " + n
                + (n > maxBody ? "" : "+"));
    }

    private static int json(Response res, Callback cb, int status, Object body) {
        return text(res, cb, status, "application/json", GSON.toJson(body));
    }

    private static int text(Response res, Callback cb, int status, String type, String body) {
        res.setStatus(status);
        res.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        Content.Sink.write(res, true, body + (type.startsWith("application/json") ? "\n" : ""), cb);
        return status;
    }

    private static void error(Response res, Callback cb, int status, String code, String message) {
        if (res.isCommitted()) {
            cb.failed(new IOException(code + ": " + message)); // a streamed response already began: cut it
            return;
        }
        JsonObject e = new JsonObject();
        e.addProperty("code", code);
        e.addProperty("message", message == null ? code : message);
        JsonObject o = new JsonObject();
        o.add("error", e);
        text(res, cb, status, "application/json", GSON.toJson(o));
    }
}
