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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Quarkus test resource: the platform behind the gateway, all real. A single-node Kafka (devstack, temp dir,
 * platform topics created) and steering-service as a child JVM from its packaged quarkus-app
 * ({@code steering-service/target/quarkus-app}, built before the gateway in the reactor), loading the default model
 * from {@code ${CNA_HOME:-~/.cache/cna}/models} ({@code ./cna model pull}). Ready once steering-service's
 * {@code /q/health/ready} is UP (up to 3 minutes). Gives the app {@code cna.steering.url} and
 * {@code kafka.bootstrap.servers}; steering-service's output goes to {@code target/steering-service.log}.
 *
 * <pre>
 * &#64;QuarkusTest
 * &#64;WithTestResource(SteeringStack.class)   // classes with the same resources share one stack
 * class MyTest { ... }
 * </pre>
 */
public class SteeringStack implements QuarkusTestResourceLifecycleManager {
    private static final Path APP = Path.of("..", "steering-service", "target", "quarkus-app", "quarkus-run.jar");
    private static final Path LOG = Path.of("target", "steering-service.log");
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);

    private DevKafka kafka;
    private Process steering;
    private Thread killOnExit;

    @Override
    public Map<String, String> start() {
        if (!Files.isRegularFile(APP)) {
            throw new IllegalStateException(APP.toAbsolutePath().normalize() + " is missing; package it first: "
                    + "mvn -B -DskipTests -pl steering-service -am package");
        }
        try {
            kafka = DevKafka.startTemporary();
            PlatformTopics.create(kafka.bootstrapServers());
            int port = freePort();
            Files.createDirectories(LOG.getParent());
            steering = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dai.djl.offline=true", "-Xmx3g", "-Dquarkus.http.port=" + port,
                    "-Dkafka.bootstrap.servers=" + kafka.bootstrapServers(), "-jar", APP.toString())
                    .redirectErrorStream(true).redirectOutput(LOG.toFile()).start();
            // a test JVM that dies without stop() must not leave a 3 GB process behind
            killOnExit = new Thread(steering::destroyForcibly, "steering-stack-kill");
            Runtime.getRuntime().addShutdownHook(killOnExit);
            String url = "http://127.0.0.1:" + port;
            awaitReady(url);
            return Map.of("cna.steering.url", url, "kafka.bootstrap.servers", kafka.bootstrapServers(),
                    "quarkus.kafka.devservices.enabled", "false");
        } catch (Exception e) {
            stop();
            throw new IllegalStateException("the steering stack did not start (" + e.getMessage() + "); see " + LOG, e);
        }
    }

    @Override
    public void stop() {
        if (steering != null) {
            steering.destroy();
            try {
                if (!steering.waitFor(30, TimeUnit.SECONDS)) {
                    steering.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                steering.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            Runtime.getRuntime().removeShutdownHook(killOnExit);
            steering = null;
        }
        if (kafka != null) {
            kafka.close();
            kafka = null;
        }
    }

    private void awaitReady(String url) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create(url + "/q/health/ready")).timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!steering.isAlive()) {
                throw new IllegalStateException("steering-service exited with " + steering.exitValue() + ": " + tail());
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
        throw new IllegalStateException("steering-service not ready within " + READY_TIMEOUT + ": " + tail());
    }

    private static String tail() throws IOException {
        List<String> lines = Files.readAllLines(LOG);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
