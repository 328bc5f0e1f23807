package dev.cna.bench;

import dev.cna.api.StreamEvent;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.CircuitJson;
import dev.cna.core.circuit.CircuitNeuron;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelSpec;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.runtime.MemoryBudget;
import dev.cna.core.tokenizer.ChatMessage;
import dev.cna.core.tokenizer.Tokenizer;
import dev.cna.devstack.DevKafka;
import dev.cna.devstack.PlatformTopics;
import dev.cna.steering.CircuitRegistry;
import dev.cna.steering.GenerationJob;
import dev.cna.steering.Scheduler;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * steering-service's scheduler and registry on the default model with the real in-JVM broker (no HTTP):
 * aggregate decode tokens/s at several numbers of concurrent streams, unsteered and steered (each stream
 * with its own circuit) run side by side, and hot-swap latency: from a circuit version's publication to
 * Kafka to the first token generated under it, for streams following the circuit live.
 *
 * <p>Run with {@code bench/steering/run}; writes bench/results/steering.{md,json,png}.
 */
public final class SteeringBench {
    private static final String[] PROMPTS = {"Tell me a story about a fox.", "Explain how rain forms.",
            "Describe your ideal city.", "Write a letter to a friend.", "How do airplanes fly?", "What makes a good meal?",
            "Describe a walk in the forest.", "Explain photosynthesis.", "Write a poem about the sea.",
            "What is the history of bread?", "How do computers work?", "Describe a winter morning.",
            "Explain why we sleep.", "Tell me about volcanoes.", "What is music?", "Describe a busy market."};

    private record Throughput(int streams, double unsteered, double steered, double[] unsteeredRuns, double[] steeredRuns) {}

    private static final int WARMUP_SWAPS = 5;

    private record SwapLatency(int streams, int publications, List<Long> millis, long preemptedPasses) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = Report.options(args);
        int[] streams = Arrays.stream(opts.getOrDefault("streams", "1,4,16").split(",")).mapToInt(Integer::parseInt).toArray();
        int tokens = Integer.parseInt(opts.getOrDefault("tokens", "64"));
        int repeats = Integer.parseInt(opts.getOrDefault("repeats", "5"));
        int swaps = Integer.parseInt(opts.getOrDefault("swaps", "100"));
        int neurons = Integer.parseInt(opts.getOrDefault("neurons", "200"));
        Path out = Path.of(opts.getOrDefault("out", "bench/results"));
        String command = "bench/steering/run" + (args.length == 0 ? "" : " " + String.join(" ", args));

        List<Throughput> throughput = new ArrayList<>();
        List<SwapLatency> latency = new ArrayList<>();
        try (LoadedModel model = LoadedModel.load(new ModelSpec("default"), Report.backend());
             DevKafka kafka = DevKafka.startTemporary()) {
            PlatformTopics.create(kafka.bootstrapServers());
            ModelConfig config = model.config();
            try (CircuitRegistry registry = new CircuitRegistry(kafka.bootstrapServers(), PlatformTopics.CIRCUITS, config, model.fingerprint());
                 Scheduler scheduler = new Scheduler(model.backend(), model.tokenizer(),
                         MemoryBudget.of(config, 2L << 30, model.backend().prefillChunk()), 16, 64);
                 CircuitFeed feed = new CircuitFeed(kafka.bootstrapServers(), registry);
                 KafkaProducer<String, String> producer = producer(kafka.bootstrapServers())) {
                scheduler.start();
                int maxStreams = Arrays.stream(streams).max().orElse(1);
                for (int i = 0; i < maxStreams; i++) {
                    publish(producer, circuit("bench-" + i, 1, model, i, neurons));
                }
                await(() -> registry.all().size() >= maxStreams);
                Report.progress("model %s, %d circuits of %d neurons registered", model.id(), maxStreams, neurons);
                Bench bench = new Bench(scheduler, registry, model.tokenizer(), config.layers(), tokens);
                bench.run(Math.min(4, maxStreams), false); // warm-up
                for (int n : streams) {
                    double[] plain = new double[repeats];
                    double[] steered = new double[repeats];
                    for (int r = 0; r < repeats; r++) { // alternate, so both see the same machine state
                        plain[r] = bench.run(n, false);
                        steered[r] = bench.run(n, true);
                        Report.progress("%2d streams, run %d: unsteered %.1f tok/s, steered %.1f tok/s", n, r + 1, plain[r], steered[r]);
                    }
                    throughput.add(new Throughput(n, Report.median(plain), Report.median(steered), plain, steered));
                }
                for (int n : new int[] {1, maxStreams}) {
                    latency.add(swapLatency(scheduler, registry, producer, model, config.layers(), n, swaps, neurons));
                    SwapLatency l = latency.get(latency.size() - 1);
                    Report.progress("%2d live streams: swap latency p50 %d ms, p99 %d ms over %d swaps", n, percentile(l.millis, 50),
                            percentile(l.millis, 99), l.millis.size());
                }
            }
            write(out, command, model, tokens, repeats, neurons, throughput, latency);
        }
        Report.progress("wrote %s/steering.{md,json,png}", out);
    }

    /** Runs n streams at once to the end; returns the aggregate generated tokens per second. */
    private record Bench(Scheduler scheduler, CircuitRegistry registry, Tokenizer tokenizer, int layers, int tokens) {
        double run(int n, boolean steered) throws Exception {
            List<CompletableFuture<Integer>> done = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                List<GenerationJob.Steering> steering = steered ? List.of(new GenerationJob.Steering("bench-" + i, 0.5f)) : List.of();
                CompletableFuture<Integer> finished = new CompletableFuture<>();
                GenerationJob job = new GenerationJob(prompt(i), new SamplingParams(0.8f, 40, 0.95f, i, tokens, List.of()),
                        steering, GenerationJob.Mode.LIVE, registry, layers, counting(finished), ms -> {});
                if (!scheduler.offer(job)) {
                    throw new IllegalStateException("queue full");
                }
                done.add(finished);
            }
            int generated = 0;
            for (CompletableFuture<Integer> f : done) {
                generated += f.get(10, TimeUnit.MINUTES);
            }
            return generated * 1e9 / (System.nanoTime() - t0);
        }

        private int[] prompt(int i) {
            return chat(tokenizer, i);
        }
    }

    /** The i-th benchmark prompt as a one-message chat. */
    private static int[] chat(Tokenizer tokenizer, int i) {
        return tokenizer.encodePrompt(tokenizer.formatChat(List.of(new ChatMessage("user", PROMPTS[i % PROMPTS.length])), true));
    }

    /** A sink that counts generated tokens and completes with the count at the end. */
    private static GenerationJob.Sink counting(CompletableFuture<Integer> finished) {
        AtomicInteger count = new AtomicInteger();
        return new GenerationJob.Sink() {
            @Override
            public void send(StreamEvent e) {
                if (e instanceof StreamEvent.Token t && t.token() != null) {
                    count.incrementAndGet();
                } else if (e instanceof StreamEvent.Error err) {
                    finished.completeExceptionally(new IllegalStateException(err.detail()));
                }
            }

            @Override
            public void end() {
                finished.complete(count.get());
            }
        };
    }

    /**
     * n streams follow circuit "swap" live while new versions are published every 250 ms; each stream reports,
     * per version, the time from the record's Kafka timestamp to its first token under that version. The first
     * {@value #WARMUP_SWAPS} versions are not counted.
     */
    private static SwapLatency swapLatency(Scheduler scheduler, CircuitRegistry registry, KafkaProducer<String, String> producer,
                                           LoadedModel model, int layers, int n, int publications, int neurons) throws Exception {
        String name = "swap-" + n;
        publish(producer, circuit(name, 1, model, 0, neurons));
        await(() -> registry.get(name).isPresent());
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        // A stream that ends (end of turn) is replaced by a new one, so n streams follow every version.
        AtomicBoolean publishing = new AtomicBoolean(true);
        List<GenerationJob> jobs = Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<Integer>> done = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            CompletableFuture<Integer> finished = new CompletableFuture<>();
            follow(scheduler, registry, model, layers, name, i, i, publishing, jobs, latencies, finished);
            done.add(finished);
        }
        await(() -> scheduler.status().running() == n);
        // A few versions first, not counted: the swap path's first runs include its JIT compilation.
        int v = 2;
        for (; v < 2 + WARMUP_SWAPS; v++) {
            publish(producer, circuit(name, v, model, v, neurons));
            Thread.sleep(250);
        }
        latencies.clear();
        long preemptedBefore = scheduler.status().preemptedPasses();
        for (int end = v + publications; v < end; v++) {
            publish(producer, circuit(name, v, model, v, neurons));
            Thread.sleep(250);
        }
        publishing.set(false);
        synchronized (jobs) {
            jobs.forEach(GenerationJob::cancel);
        }
        for (CompletableFuture<Integer> f : done) {
            f.get(1, TimeUnit.MINUTES);
        }
        return new SwapLatency(n, publications, List.copyOf(latencies), scheduler.status().preemptedPasses() - preemptedBefore);
    }

    /** Stream i follows the circuit live; when it ends while versions are still published, a new one (next seed) takes its place. */
    private static void follow(Scheduler scheduler, CircuitRegistry registry, LoadedModel model, int layers, String name,
                               int i, long seed, AtomicBoolean publishing, List<GenerationJob> jobs, List<Long> latencies,
                               CompletableFuture<Integer> finished) {
        CompletableFuture<Integer> one = new CompletableFuture<>();
        GenerationJob job = new GenerationJob(chat(model.tokenizer(), i),
                new SamplingParams(0.8f, 40, 0.95f, seed, 1000, List.of("\u0000never")), List.of(new GenerationJob.Steering(name, 0.5f)),
                GenerationJob.Mode.LIVE, registry, layers, counting(one), latencies::add);
        jobs.add(job);
        if (!publishing.get()) {
            job.cancel(); // started after the end of the run cancelled the others
        }
        one.whenCompleteAsync((count, failure) -> {
            if (failure != null) {
                finished.completeExceptionally(failure);
            } else if (publishing.get()) {
                follow(scheduler, registry, model, layers, name, i, seed + 1000, publishing, jobs, latencies, finished);
            } else {
                finished.complete(count);
            }
        });
        scheduler.offer(job);
    }

    /** A circuit of the running model: neurons spread over the layers, shifted by seed so versions differ. */
    private static Circuit circuit(String name, long version, LoadedModel model, int seed, int count) {
        ModelConfig c = model.config();
        List<CircuitNeuron> list = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            list.add(new CircuitNeuron((k + seed) % c.layers(), (k * 37 + seed * 101) % c.intermediateSize(), count - k));
        }
        list.sort(CircuitNeuron.RANKING);
        return new Circuit(Circuit.SCHEMA, name, version, new Circuit.Model(model.id(), model.fingerprint(), c.layers(),
                c.intermediateSize()), Circuit.Method.MANUAL, list, new Circuit.Stats(0, 0, count, List.of(), 0),
                Instant.now().toString(), null);
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
    }

    private static void publish(KafkaProducer<String, String> producer, Circuit c) throws Exception {
        producer.send(new ProducerRecord<>(PlatformTopics.CIRCUITS, c.name(), CircuitJson.write(c))).get();
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out");
            }
            Thread.sleep(10);
        }
    }

    private static long percentile(List<Long> values, int p) {
        if (values.isEmpty()) {
            return -1;
        }
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    private static void write(Path out, String command, LoadedModel model, int tokens, int repeats, int neurons,
                              List<Throughput> throughput, List<SwapLatency> latency) throws java.io.IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("machine", Report.machine());
        json.put("command", command);
        json.put("model", model.id());
        json.put("backend", model.backend().name());
        json.put("tokensPerStream", tokens);
        json.put("repeats", repeats);
        json.put("neuronsPerCircuit", neurons);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Throughput t : throughput) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("streams", t.streams);
            row.put("unsteeredTokensPerSecond", t.unsteered);
            row.put("steeredTokensPerSecond", t.steered);
            row.put("steeredOverUnsteered", t.steered / t.unsteered);
            row.put("unsteeredRuns", t.unsteeredRuns);
            row.put("steeredRuns", t.steeredRuns);
            rows.add(row);
        }
        json.put("throughput", rows);
        List<Map<String, Object>> swaps = new ArrayList<>();
        for (SwapLatency l : latency) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("liveStreams", l.streams);
            row.put("publications", l.publications);
            row.put("measuredSwaps", l.millis.size());
            row.put("p50Millis", percentile(l.millis, 50));
            row.put("p99Millis", percentile(l.millis, 99));
            row.put("maxMillis", l.millis.stream().mapToLong(Long::longValue).max().orElse(-1));
            row.put("preemptedPasses", l.preemptedPasses);
            swaps.add(row);
        }
        json.put("swapLatency", swaps);
        Files.createDirectories(out);
        Report.writeJson(out.resolve("steering.json"), json);
        Files.writeString(out.resolve("steering.md"), markdown(json, throughput, latency), StandardCharsets.UTF_8);
        plot(throughput, out.resolve("steering.png"));
    }

    private static String markdown(Map<String, Object> json, List<Throughput> throughput, List<SwapLatency> latency) {
        @SuppressWarnings("unchecked")
        Map<String, Object> machine = (Map<String, Object>) json.get("machine");
        StringBuilder md = new StringBuilder("# steering-service: throughput and hot-swap latency\n\n");
        md.append("Produced by `").append(json.get("command")).append("` (").append(Report.describe(machine)).append(").\n\n");
        md.append(String.format("Model `%s` on the %s backend. The service's `Scheduler` (one decode loop, continuous batching, up to 16 "
                + "rows) and `CircuitRegistry` (reading `cna.circuits` from an in-JVM Kafka 4.1.2 broker), driven in-process: "
                + "no HTTP. Each stream samples %s tokens (temperature 0.8, top-k 40, its own seed). Steered: stream i follows "
                + "its own circuit `bench-i` (%s neurons spread over the layers) at multiplier 0.5, so every row of the batch "
                + "scales different neurons. Aggregate tokens/s = all generated tokens / wall time from the first request to the "
                + "last token; median of %s runs, unsteered and steered alternating.%n%n",
                json.get("model"), json.get("backend"), json.get("tokensPerStream"), json.get("neuronsPerCircuit"), json.get("repeats")));
        md.append("| concurrent streams | unsteered tok/s | steered tok/s | steered / unsteered |\n|---|---|---|---|\n");
        for (Throughput t : throughput) {
            md.append(String.format("| %d | %.1f | %.1f | %.2fx |%n", t.streams, t.unsteered, t.steered, t.steered / t.unsteered));
        }
        md.append("\n## Hot-swap latency\n\nStreams follow circuit `swap` live (mode `live`) while a new version is published every "
                + "250 ms. Latency: from the record's Kafka timestamp (the producer's clock, the same machine) to the first token "
                + "a stream generates under the new version, one sample per stream and version, after " + WARMUP_SWAPS
                + " versions not counted (the swap path's JIT warm-up). A new version preempts the pass in flight at its next "
                + "layer boundary and the step starts over under it, so the latency is the Kafka delivery and compilation, "
                + "at most a layer, and one whole step: it grows with the batch's step time. `preempted passes` counts the "
                + "decode steps and prefill chunks stopped that way.\n\n");
        md.append("| live streams | versions published | samples | p50 ms | p99 ms | max ms | preempted passes |\n|---|---|---|---|---|---|---|\n");
        for (SwapLatency l : latency) {
            md.append(String.format("| %d | %d | %d | %d | %d | %d | %d |%n", l.streams, l.publications, l.millis.size(),
                    percentile(l.millis, 50), percentile(l.millis, 99), l.millis.stream().mapToLong(Long::longValue).max().orElse(-1),
                    l.preemptedPasses));
        }
        md.append("\n![throughput](steering.png)\n");
        return md.toString();
    }

    private static void plot(List<Throughput> throughput, Path file) throws java.io.IOException {
        List<String> x = throughput.stream().map(t -> String.valueOf(t.streams)).toList();
        CategoryChart chart = new CategoryChartBuilder().width(720).height(420)
                .title("Aggregate decode tokens/s by concurrent streams").xAxisTitle("concurrent streams").yAxisTitle("tokens/s").build();
        chart.addSeries("unsteered", x, throughput.stream().map(t -> t.unsteered).toList());
        chart.addSeries("steered (own circuit per stream)", x, throughput.stream().map(t -> t.steered).toList());
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
