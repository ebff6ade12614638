package org.hope4j.device.serve;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The running service: Jetty on a Unix domain socket (and on loopback TCP when asked), the profiles,
 * and a housekeeping thread that ticks {@link Profiles#tick()}. {@link #stop()} stops accepting,
 * lets running requests finish (a running sleep is preempted), saves every profile and removes the
 * socket.
 */
public final class Service {
    private static final Logger LOG = System.getLogger(Service.class.getName());

    private final Profiles profiles;
    private final ServeMetrics metrics = new ServeMetrics();
    private final Path socket;
    private final int tcpPort;
    private final Path tokenFile;
    private final long maxBody;
    private final int threads;
    private final Duration tick;
    private Duration idleTimeout = Duration.ofMinutes(5);
    private Server server;
    private ServerConnector tcp;
    private ScheduledExecutorService housekeeping;
    private volatile boolean stopping;

    public Service(Profiles.Options options, Path socket, int tcpPort, Path tokenFile, long maxBody, int threads, Duration tick) {
        this.profiles = new Profiles(options, metrics);
        this.socket = socket;
        this.tcpPort = tcpPort;
        this.tokenFile = tokenFile;
        this.maxBody = maxBody;
        this.threads = threads;
        this.tick = tick;
    }

    /** True if a service answers on {@code socket} (a connection is accepted). */
    public static boolean answers(Path socket) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            return ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * How long a connection may stay silent (no request, or a request whose client sends nothing more) before it
     * is closed; 5 minutes unless set before {@link #start}. A silent request holds no thread meanwhile.
     */
    public Service idleTimeout(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("idle timeout must be positive, found " + timeout);
        }
        this.idleTimeout = timeout;
        return this;
    }

    public void start() throws Exception {
        prepareSocketDirectory(socket.getParent());
        if (Files.exists(socket)) {
            if (answers(socket)) {
                throw new IllegalStateException("--socket: another service already answers on " + socket);
            }
            Files.delete(socket); // a dead service's socket
        }
        String token = tokenFile == null ? null : token(tokenFile);
        QueuedThreadPool pool = new QueuedThreadPool(threads, 2);
        pool.setName("hope4j-serve");
        server = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        UnixDomainServerConnector uds = new UnixDomainServerConnector(server, new HttpConnectionFactory(http));
        uds.setUnixDomainPath(socket);
        uds.setIdleTimeout(idleTimeout.toMillis());
        server.addConnector(uds);
        if (tcpPort > 0) {
            tcp = new ServerConnector(server, new HttpConnectionFactory(http));
            tcp.setHost("127.0.0.1"); // loopback only, never another address
            tcp.setPort(tcpPort);
            tcp.setIdleTimeout(idleTimeout.toMillis());
            server.addConnector(tcp);
        }
        server.setHandler(new GracefulHandler(new ApiHandler(profiles, metrics, maxBody, token, () -> stopping)));
        server.setStopTimeout(Duration.ofSeconds(60).toMillis());
        server.start();
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "hope4j-serve-housekeeping");
            t.setDaemon(true);
            return t;
        });
        housekeeping.scheduleWithFixedDelay(() -> {
            try {
                profiles.tick();
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "housekeeping failed: " + e.getMessage(), e);
            }
        }, tick.toMillis(), tick.toMillis(), TimeUnit.MILLISECONDS);
        LOG.log(Level.INFO, "serving on {0}{1}", socket, tcp == null ? "" : " and 127.0.0.1:" + tcp.getLocalPort());
    }

    /** The profiles this service hosts (benchmarks drive their housekeeping ticks). */
    public Profiles profiles() {
        return profiles;
    }

    /** The TCP port actually bound (0 without TCP). */
    public int tcpPort() {
        return tcp == null ? 0 : tcp.getLocalPort();
    }

    public void join() throws InterruptedException {
        server.join();
    }

    /** Stops accepting, waits for running requests (sleeps are preempted), saves every profile, removes the socket. */
    public synchronized void stop() {
        if (stopping) {
            return;
        }
        stopping = true;
        LOG.log(Level.INFO, "stopping: saving every profile");
        if (housekeeping != null) {
            housekeeping.shutdownNow();
        }
        try {
            if (server != null) {
                server.stop();
            }
        } catch (Exception e) {
            LOG.log(Level.WARNING, "stopping the server: " + e.getMessage(), e);
        }
        profiles.close();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot remove " + socket + ": " + e.getMessage());
        }
        LOG.log(Level.INFO, "stopped");
    }

    /**
     * The socket's directory: created owner-only when missing; an existing one must not be open to
     * the group or others (the socket's permissions alone are not honoured everywhere).
     */
    static void prepareSocketDirectory(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            Profiles.ownerOnlyDirectory(dir);
            return;
        }
        Set<PosixFilePermission> p = Files.getPosixFilePermissions(dir);
        for (PosixFilePermission x : p) {
            if (x.name().startsWith("GROUP") || x.name().startsWith("OTHERS")) {
                throw new IllegalArgumentException("--socket: the directory " + dir + " is open to other users ("
                        + PosixFilePermissions.toString(p) + "); put the socket in an owner-only directory");
            }
        }
    }

    /** The bearer token in {@code file}, created owner-only with 32 random bytes (hex) when missing. */
    static String token(Path file) {
        try {
            if (!Files.exists(file)) {
                byte[] b = new byte[32];
                new SecureRandom().nextBytes(b);
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(file, HexFormat.of().formatHex(b) + "\n");
            }
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
            if (p.stream().anyMatch(x -> x.name().startsWith("GROUP") || x.name().startsWith("OTHERS"))) {
                throw new IllegalArgumentException("--token-file: " + file + " is readable by other users; chmod 600 it");
            }
            String t = Files.readString(file).strip();
            if (t.length() < 32) {
                throw new IllegalArgumentException("--token-file: " + file + " holds fewer than 32 characters");
            }
            return t;
        } catch (IOException e) {
            throw new UncheckedIOException("--token-file: " + file + ": " + e.getMessage(), e);
        }
    }
}
