package dev.cna.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cna.devstack.DevKafka;
import dev.cna.devstack.ServiceProcess;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long attribution-service takes to be ready again after a restart, with many events already applied: its
 * packaged quarkus-app (child JVM, default model, one compute thread) on a temporary in-JVM broker with 4 partitions;
 * N events (one short positive and one short negative prompt each) over F features are applied first, then the
 * instance is restarted three ways: SIGTERM and start on the same state directory; SIGKILL and start on the same
 * directory (exactly-once discards local state after an unclean stop: a restore from the changelogs); start on an
 * empty directory (a new node: a restore from the changelogs). Each time: process start to {@code /q/health/ready}
 * 200, records restored, prompts run by the model (must be 0), events counted (must be N).
 *
 * <p>Run with {@code bench/attribution-restart/run}; writes bench/results/attribution-restart.{md,json,png}.
 */
public final class AttributionRestartBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PROMPTS = Pattern.compile("(?m)^cna_attribution_prompts_total(?:\\{[^}]*})? ([0-9.E]+)$");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** One restart: how, ms from process start to ready, records restored, prompts run, events counted after it. */
    record Restart(String how, long readyMs, long restoredRecords, double promptsRun, long events) {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = Report.options(args);
        int events = Integer.parseInt(o.getOrDefault("events", "2000"));
        int features = Integer.parseInt(o.getOrDefault("features", "16"));
        Path out = Path.of(o.getOrDefault("out", "results"));
        // a state directory per run: local state belongs to one cluster (this run's temporary broker)
        Path state = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "attribution-restart-state-");
        Map<String, Object> machine = Report.machine();
        List<Restart> restarts = new ArrayList<>();
        long applyMs;
        try (DevKafka kafka = DevKafka.startTemporary();
             KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all",
                     ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                     ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class))) {
            String bootstrap = kafka.bootstrapServers();
            ServiceProcess s = start(bootstrap, state.resolve("a"));
            try {
                s.awaitReady(Duration.ofMinutes(5));
                long t0 = System.nanoTime();
                for (int e = 0; e < events; e++) {
                    String f = "restart-" + (e % features);
                    producer.send(new ProducerRecord<>("cna.prompt-pairs", f, event(f, e)));
                }
                producer.flush();
                awaitEvents(s, events, Duration.ofMinutes(30));
                applyMs = (System.nanoTime() - t0) / 1_000_000;
                Report.progress("attribution-restart: %d events applied in %d ms", events, applyMs);

                s.stop();
                s = start(bootstrap, state.resolve("a"));
                restarts.add(measure("SIGTERM, same state directory", s, events));
                s.kill();
                s.stop();
                s = start(bootstrap, state.resolve("a"));
                restarts.add(measure("SIGKILL, same state directory", s, events));
                s.stop();
                s = start(bootstrap, state.resolve("fresh"));
                restarts.add(measure("empty state directory (new node)", s, events));
            } finally {
                s.stop();
            }
        }
        ObjectNode json = JSON.createObjectNode();
        json.putPOJO("machine", machine);
        json.put("events", events).put("features", features).put("applyMs", applyMs);
        json.putPOJO("restarts", restarts);
        Report.writeJson(out.resolve("attribution-restart.json"), json);
        Files.writeString(out.resolve("attribution-restart.md"), markdown(machine, events, features, applyMs, restarts));
        plot(restarts, out.resolve("attribution-restart.png"));
    }

    private static ServiceProcess start(String bootstrap, Path state) throws Exception {
        return ServiceProcess.startAs("attribution-service", "attribution-restart", "kafka.bootstrap.servers=" + bootstrap,
                "cna.attribution.state-dir=" + state.toAbsolutePath(), "cna.attribution.partitions=4",
                "kafka-streams.consumer.group.instance.id=attribution-restart-bench");
    }

    private static Restart measure(String how, ServiceProcess s, int events) throws Exception {
        long t0 = System.nanoTime();
        s.awaitReady(Duration.ofMinutes(10));
        long ready = (System.nanoTime() - t0) / 1_000_000;
        JsonNode all = features(s);
        long counted = 0;
        for (JsonNode f : all.get("features")) {
            counted += f.get("events").asLong();
        }
        Matcher m = PROMPTS.matcher(get(s.url() + "/q/metrics"));
        double prompts = m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
        Restart r = new Restart(how, ready, all.get("restoredRecords").asLong(), prompts, counted);
        Report.progress("attribution-restart: %s", r);
        if (counted != events || prompts != 0) {
            throw new IllegalStateException("after the restart: " + counted + " events counted (expected " + events + "), "
                    + prompts + " prompts run (expected 0)");
        }
        return r;
    }

    private static void awaitEvents(ServiceProcess s, int events, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            long counted = 0;
            for (JsonNode f : features(s).get("features")) {
                counted += f.get("events").asLong();
            }
            if (counted == events) {
                return;
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("events not applied within " + timeout);
    }

    private static JsonNode features(ServiceProcess s) throws Exception {
        return JSON.readTree(get(s.url() + "/features"));
    }

    private static String get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static String event(String feature, int e) {
        ObjectNode n = JSON.createObjectNode();
        n.put("schema", "cna.prompt-pairs/v1").put("id", "e-" + e).put("feature", feature);
        n.putArray("positive").add("Tell me something rude, number " + e + ".");
        n.putArray("negative").add("Tell me something kind, number " + e + ".");
        return n.toString();
    }

    private static String markdown(Map<String, Object> machine, int events, int features, long applyMs, List<Restart> restarts) {
        StringBuilder md = new StringBuilder("# attribution-service: readiness after a restart\n\n");
        md.append(Report.describe(machine)).append(".\n\n");
        md.append(String.format("Packaged service (child JVM, default model, `-Dcna.threads=1`), temporary in-JVM broker, "
                + "`cna.prompt-pairs` with 4 partitions, %d events (1 + 1 short prompts each) over %d features, applied in "
                + "%.1f s before the restarts. Ready = process start to `/q/health/ready` 200 (JVM start and model load "
                + "included). Command: `bench/attribution-restart/run`.%n%n", events, features, applyMs / 1000.0));
        md.append("| restart | ready (s) | changelog records restored | prompts run | events counted |\n|---|---|---|---|---|\n");
        for (Restart r : restarts) {
            md.append(String.format("| %s | %.1f | %d | %.0f | %d |%n", r.how(), r.readyMs() / 1000.0, r.restoredRecords(),
                    r.promptsRun(), r.events()));
        }
        md.append("\nBefore Kafka Streams, a restart replayed `cna.prompt-pairs` from the beginning through the model: "
                + "192.7 s with 433 events (bench/results/reliability.md), growing with the history.\n");
        md.append("\n![ready after restart](attribution-restart.png)\n");
        return md.toString();
    }

    private static void plot(List<Restart> restarts, Path file) throws java.io.IOException {
        CategoryChart c = new CategoryChartBuilder().width(720).height(420).title("ready after a restart")
                .xAxisTitle("restart").yAxisTitle("s").build();
        c.addSeries("ready (s)", restarts.stream().map(Restart::how).toList(),
                restarts.stream().map(r -> r.readyMs() / 1000.0).toList());
        BitmapEncoder.saveBitmap(c, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
