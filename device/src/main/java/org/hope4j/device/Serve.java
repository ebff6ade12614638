package org.hope4j.device;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.hope4j.device.serve.Profiles;
import org.hope4j.device.serve.Service;
import org.hope4j.sleep.DevicePolicy;
import org.hope4j.sleep.LinuxDevicePolicy;
import org.hope4j.sleep.PolicyOptions;
import org.hope4j.sleep.SchedulerOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hope4j serve}: the local learning service (README, "The local learning service"). */
@Command(name = "serve", mixinStandardHelpOptions = true, description = {
    "Runs the local learning service: one learner per profile, HTTP/1.1 + JSON on a Unix domain socket (owner-only),",
    "saved as it learns, sleeping when the device is idle. Stops cleanly on SIGTERM (every profile saved)."})
final class Serve implements Callable<Integer> {
    @CommandLine.Mixin
    Main.Common common;

    @Option(names = "--state-root", required = true, paramLabel = "DIR", description = "where the profiles live (created owner-only)")
    Path root;

    @Option(names = "--socket", paramLabel = "PATH", description = "the Unix domain socket (default: $XDG_RUNTIME_DIR/hope4j/hope4j.sock when"
            + " XDG_RUNTIME_DIR is set, else STATE-ROOT/hope4j.sock); its directory is made owner-only")
    Path socket;

    @Option(names = "--tcp-port", defaultValue = "0", description = "also listen on 127.0.0.1:PORT (loopback only), every request with the"
            + " bearer token of --token-file; 0: no TCP (default)")
    int tcpPort;

    @Option(names = "--token-file", paramLabel = "FILE", description = "the bearer token for TCP (created owner-only with a random token if"
            + " missing; default: STATE-ROOT/token)")
    Path tokenFile;

    @Option(names = "--max-open", defaultValue = "4", description = "learners kept open at most; the least recently used is saved and"
            + " closed to make room (default: ${DEFAULT-VALUE})")
    int maxOpen;

    @Option(names = "--save-every", paramLabel = "BYTES", defaultValue = "1048576", description = "save a profile once it has learned this many"
            + " bytes since its last save (default: ${DEFAULT-VALUE}); unsaved learning is also saved at every tick")
    long saveEvery;

    @Option(names = "--tick-seconds", defaultValue = "10", description = "housekeeping period: save what is unsaved, close idle profiles"
            + " (default: ${DEFAULT-VALUE})")
    int tickSeconds;

    @Option(names = "--evict-after-ticks", defaultValue = "30", description = "close a profile idle for this many ticks (default:"
            + " ${DEFAULT-VALUE})")
    int evictAfterTicks;

    @Option(names = "--no-idle-sleep", description = "never sleep on its own (POST .../sleep still works)")
    boolean noIdleSleep;

    @Option(names = "--idle-after-seconds", defaultValue = "300", description = "a profile idle this long may sleep when the device allows"
            + " (power, heat, load; default: ${DEFAULT-VALUE})")
    int idleAfterSeconds;

    @Option(names = "--max-body", paramLabel = "BYTES", defaultValue = "67108864", description = "largest request body (default: ${DEFAULT-VALUE})")
    long maxBody;

    @Option(names = "--request-threads", defaultValue = "16", description = "request threads at most (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--idle-timeout-seconds", defaultValue = "300", description = "close a connection silent this long, a request"
            + " whose body stopped arriving included (default: ${DEFAULT-VALUE}); a waiting request holds no request thread")
    int idleTimeoutSeconds;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (maxOpen < 1 || saveEvery < 1 || tickSeconds < 1 || evictAfterTicks < 1 || maxBody < 1 || threads < 4 || idleTimeoutSeconds < 1 || tcpPort < 0 || tcpPort > 65535) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--max-open, --save-every, --tick-seconds, --evict-after-ticks,"
                    + " --max-body and --idle-timeout-seconds must be >= 1, --request-threads >= 4, --tcp-port in 0..65535");
        }
        Path sock = socket;
        if (sock == null) {
            String xdg = System.getenv("XDG_RUNTIME_DIR");
            sock = xdg != null && !xdg.isBlank() ? Path.of(xdg, "hope4j", "hope4j.sock") : root.resolve("hope4j.sock");
        }
        DevicePolicy policy = new LinuxDevicePolicy(PolicyOptions.defaults());
        SchedulerOptions when = SchedulerOptions.defaults().withIdleAfter(Duration.ofSeconds(idleAfterSeconds));
        Profiles.Options po = new Profiles.Options(root.toAbsolutePath(), maxOpen, saveEvery, evictAfterTicks, !noIdleSleep, policy, when,
                common::open);
        Path token = tcpPort == 0 ? null : tokenFile != null ? tokenFile : root.resolve("token");
        Service service = new Service(po, sock.toAbsolutePath(), tcpPort, token, maxBody, threads, Duration.ofSeconds(tickSeconds));
        service.idleTimeout(Duration.ofSeconds(idleTimeoutSeconds)).start();
        Runtime.getRuntime().addShutdownHook(new Thread(service::stop, "hope4j-serve-shutdown"));
        System.err.println("hope4j serve: listening on " + sock.toAbsolutePath() + (tcpPort == 0 ? "" : " and 127.0.0.1:" + service.tcpPort())
                + ", state under " + root.toAbsolutePath());
        service.join();
        return 0;
    }
}
