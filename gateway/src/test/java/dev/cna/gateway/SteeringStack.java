package dev.cna.gateway;

import dev.cna.devstack.DevKafka;
import dev.cna.devstack.PlatformTopics;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Quarkus test resource: the platform behind the gateway, all real. A single-node Kafka (devstack, temp dir,
 * platform topics created), steering-service and attribution-service as child JVMs from their packaged
 * quarkus-apps ({@code MODULE/target/quarkus-app}, built before the gateway in the reactor), loading the default
 * model from {@code ${CNA_HOME:-~/.cache/cna}/models} ({@code ./cna model pull}). Ready once both answer
 * {@code /q/health/ready} UP (up to 3 minutes). Gives the app {@code cna.steering.url}, {@code cna.attribution.url}
 * and {@code kafka.bootstrap.servers}, and the tests the services' process ids as {@code cna.stack.steering-pid} and
 * {@code cna.stack.attribution-pid} (not under {@code cna.steering.}: the gateway's config mapping of that prefix
 * refuses keys it does not know); each service's output goes to {@code target/MODULE.log}.
 *
 * <pre>
 * &#64;QuarkusTest
 * &#64;WithTestResource(SteeringStack.class)   // classes with the same resources share one stack
 * class MyTest { ... }
 * </pre>
 *
 * A test that needs steering-service configured otherwise uses a subclass (its own stack, so the classes on the
 * default one keep sharing it): {@link #SteeringStack(Map, boolean)} gives steering-service's extra properties and
 * whether attribution-service runs too.
 */
public class SteeringStack implements QuarkusTestResourceLifecycleManager {
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);

    private final Map<String, String> steeringProperties;
    private final boolean withAttribution;

    /** The default stack: steering-service as configured in its application.properties, and attribution-service. */
    public SteeringStack() {
        this(Map.of(), true);
    }

    /**
     * @param steeringProperties system properties for steering-service, e.g. {@code cna.steering.max-batch}
     * @param withAttribution    whether attribution-service runs too (its URL is then given to the gateway)
     */
    protected SteeringStack(Map<String, String> steeringProperties, boolean withAttribution) {
        this.steeringProperties = Map.copyOf(steeringProperties);
        this.withAttribution = withAttribution;
    }

    /** One service as a child JVM; a test JVM that dies without stop() must not leave a 3 GB process behind. */
    private record Service(String module, Process process, Thread killOnExit, String url) {
        static Service start(String module, String... properties) throws IOException {
            Path app = Path.of("..", module, "target", "quarkus-app", "quarkus-run.jar");
            if (!Files.isRegularFile(app)) {
                throw new IllegalStateException(app.toAbsolutePath().normalize() + " is missing; package it first: "
                        + "mvn -B -DskipTests -pl " + module + " -am package");
            }
            int port = freePort();
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules", "jdk.incubator.vector", "-XX:+UseSerialGC", "-Dai.djl.offline=true", "-Xmx3g", "-Dai.djl.pytorch.num_threads=1",
                    "-Dcna.threads=1", "-Dquarkus.http.port=" + port));
            for (String p : properties) {
                command.add("-D" + p);
            }
            command.addAll(List.of("-jar", app.toString()));
            Files.createDirectories(log(module).getParent());
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log(module).toFile()).start();
            Thread kill = new Thread(process::destroyForcibly, module + "-kill");
            Runtime.getRuntime().addShutdownHook(kill);
            return new Service(module, process, kill, "http://127.0.0.1:" + port);
        }

        static Path log(String module) {
            return Path.of("target", module + ".log");
        }

        void awaitReady() throws IOException, InterruptedException {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            HttpRequest ready = HttpRequest.newBuilder(URI.create(url + "/q/health/ready")).timeout(Duration.ofSeconds(5)).build();
            long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException(module + " exited with " + process.exitValue() + ": " + tail());
                }
                try {
                    if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        return;
                    }
                } catch (ConnectException e) {
                    // not listening yet
                }
                Thread.sleep(250);
            }
            throw new IllegalStateException(module + " not ready within " + READY_TIMEOUT + ": " + tail());
        }

        void stop() {
            process.destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        }

        private String tail() throws IOException {
            List<String> lines = Files.readAllLines(log(module));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        }
    }

    private DevKafka kafka;
    private final List<Service> services = new ArrayList<>();

    @Override
    public Map<String, String> start() {
        try {
            kafka = DevKafka.startTemporary();
            PlatformTopics.create(kafka.bootstrapServers());
            String bootstrap = "kafka.bootstrap.servers=" + kafka.bootstrapServers();
            List<String> steeringArgs = new ArrayList<>(List.of(bootstrap));
            steeringProperties.forEach((key, value) -> steeringArgs.add(key + "=" + value));
            Service steering = Service.start("steering-service", steeringArgs.toArray(String[]::new));
            services.add(steering);
            Map<String, String> config = new HashMap<>(Map.of("cna.steering.url", steering.url(),
                    "cna.stack.steering-pid", Long.toString(steering.process().pid()),
                    "kafka.bootstrap.servers", kafka.bootstrapServers(), "quarkus.kafka.devservices.enabled", "false"));
            if (withAttribution) {
                Service attribution = Service.start("attribution-service", bootstrap, "cna.attribution.create-topics=false");
                services.add(attribution);
                config.put("cna.attribution.url", attribution.url());
                config.put("cna.stack.attribution-pid", Long.toString(attribution.process().pid()));
            }
            for (Service service : services) {
                service.awaitReady();
            }
            return config;
        } catch (Exception e) {
            stop();
            throw new IllegalStateException("the platform stack did not start (" + e.getMessage() + "); see target/*.log", e);
        }
    }

    @Override
    public void stop() {
        services.forEach(Service::stop);
        services.clear();
        if (kafka != null) {
            kafka.close();
            kafka = null;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
