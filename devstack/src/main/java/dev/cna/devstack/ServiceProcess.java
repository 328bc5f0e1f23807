package dev.cna.devstack;

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
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A platform service as it is deployed, for tests: its packaged quarkus-app ({@code ../MODULE/target/quarkus-app},
 * from the directory of the module whose tests run) in a child JVM on a free port, with the given system properties,
 * its output in {@code target/MODULE.log}. A test JVM that dies without {@link #stop()} must not leave a 3 GB process
 * behind: a shutdown hook kills it.
 *
 * @param url {@code http://127.0.0.1:PORT}
 */
public record ServiceProcess(String module, String name, Process process, Thread killOnExit, String url) {

    /** Starts the service; {@code properties} are {@code key=value} pairs. */
    public static ServiceProcess start(String module, String... properties) throws IOException {
        return startAs(module, module, properties);
    }

    /** Starts one of several instances of the service, its output in {@code target/NAME.log}. */
    public static ServiceProcess startAs(String module, String name, String... properties) throws IOException {
        Path app = Path.of("..", module, "target", "quarkus-app", "quarkus-run.jar");
        if (!Files.isRegularFile(app)) {
            throw new IllegalStateException(app.toAbsolutePath().normalize() + " is missing; package it first: "
                    + "mvn -B -DskipTests -pl " + module + " -am package");
        }
        int port = freePort();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-XX:+UseSerialGC", "-Dai.djl.offline=true", "-Xmx3g",
                "-Dai.djl.pytorch.num_threads=1", "-Dcna.threads=1", "-Dquarkus.http.port=" + port));
        for (String p : properties) {
            command.add("-D" + p);
        }
        command.addAll(List.of("-jar", app.toString()));
        Files.createDirectories(log(name).getParent());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log(name).toFile()).start();
        Thread kill = new Thread(process::destroyForcibly, name + "-kill");
        Runtime.getRuntime().addShutdownHook(kill);
        return new ServiceProcess(module, name, process, kill, "http://127.0.0.1:" + port);
    }

    private static Path log(String name) {
        return Path.of("target", name + ".log");
    }

    /** Waits until {@code /q/health/ready} answers 200; fails with the log's tail if the process exits or time runs out. */
    public void awaitReady(Duration timeout) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create(url + "/q/health/ready")).timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + ": " + tail());
            }
            try {
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (ConnectException e) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException(name + " not ready within " + timeout + ": " + tail());
    }

    /** SIGKILL: the process ends at once, with no shutdown of any kind (a crash, an OOM kill); {@link #stop()} still cleans up. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM (a graceful Quarkus shutdown), then a kill after 30 s. */
    public void stop() {
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
        List<String> lines = Files.readAllLines(log(name));
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
