package dev.cna.bench;

import dev.cna.core.runtime.MemoryBudget;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.model.ModelSpec;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.runtime.Backend;
import dev.cna.core.tokenizer.ChatMessage;
import dev.cna.devstack.DevKafka;
import dev.cna.devstack.PlatformTopics;
import dev.cna.steering.CircuitRegistry;
import dev.cna.steering.GenerationJob;
import dev.cna.steering.Scheduler;
import dev.cna.api.StreamEvent;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Long prompts joining running streams: the running streams' inter-token gaps while prompts of N tokens join
 * (p50/p99/max, against the gaps before any join), and each joining prompt's time to first token. Each variant is a
 * fresh JVM with its own build's classes first on the classpath (e.g. the scheduler before chunked prefill) and its
 * own prefill chunk, so builds compare side by side in one run; a variant whose RSS passes the ceiling is killed.
 *
 * <p>Run with {@code bench/steering/long-prompts}; writes bench/results/steering-long-prompts.{md,json,png}.
 */
public final class JoinBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One variant's figures for one joining-prompt length. */
    public record Result(String variant, int joinTokens, int chunk, double gapP50Ms, double gapP99Ms, double gapMaxMs,
                         double baseGapP50Ms, double baseGapMaxMs, List<Double> ttftS, String outcome) {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("probe")) {
            System.out.println(JSON.writeValueAsString(probe(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Integer.parseInt(args[4]), Integer.parseInt(args[5]))));
            return;
        }
        Map<String, String> opts = Report.options(args);
        int[] joinTokens = Arrays.stream(opts.getOrDefault("join-tokens", "1000,2000").split(",")).mapToInt(Integer::parseInt).toArray();
        int streams = Integer.parseInt(opts.getOrDefault("streams", "4"));
        int joins = Integer.parseInt(opts.getOrDefault("joins", "3"));
        double ceilingGiB = Double.parseDouble(opts.getOrDefault("ceiling-gib", "14"));
        Path out = Path.of(opts.getOrDefault("out", "bench/results"));
        // name=classes-first@chunk; chunk 0 = the build's own default (a build before chunked prefill has none)
        List<String[]> variants = new ArrayList<>();
        for (String v : opts.getOrDefault("variants", "chunk-256=@256").split(";")) {
            String[] nameRest = v.split("=", 2);
            String[] cpChunk = nameRest[1].split("@", 2);
            variants.add(new String[] {nameRest[0], cpChunk[0], cpChunk.length > 1 ? cpChunk[1] : "0"});
        }
        List<Result> results = new ArrayList<>();
        for (int n : joinTokens) {
            for (String[] v : variants) {
                Result r = run(v[0], v[1], Integer.parseInt(v[2]), n, streams, joins, ceilingGiB);
                Report.progress("%s, %d-token joins: %s", v[0], n, r);
                results.add(r);
            }
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("machine", Report.machine());
        json.put("command", "bench/steering/long-prompts " + String.join(" ", args));
        json.put("runningStreams", streams);
        json.put("joinsPerRun", joins);
        json.put("results", results);
        Report.writeJson(out.resolve("steering-long-prompts.json"), json);
        Files.writeString(out.resolve("steering-long-prompts.md"), markdown(json, results, streams, joins));
        plot(results, out.resolve("steering-long-prompts.png"));
    }

    private static Result run(String variant, String classesFirst, int chunk, int joinTokens, int streams, int joins,
                              double ceilingGiB) throws Exception {
        Report.ProbeRun run = Report.probe(JoinBench.class, classesFirst, (long) (ceilingGiB * (1L << 30)), "probe",
                variant, Integer.toString(chunk), Integer.toString(joinTokens), Integer.toString(streams), Integer.toString(joins));
        if (run.killed() || run.exitCode() != 0 || run.lastLine() == null) {
            String outcome = run.killed() ? String.format("killed at %.1f GiB RSS", run.peakRssBytes() / (double) (1L << 30))
                    : "failed (exit " + run.exitCode() + ")";
            return new Result(variant, joinTokens, chunk, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                    List.of(), outcome);
        }
        return JSON.readValue(run.lastLine(), Result.class);
    }

    /** The child: running streams, then long prompts joining one after another. */
    private static Result probe(String variant, int chunk, int joinTokens, int streams, int joins) throws Exception {
        try (LoadedModel model = LoadedModel.load(new ModelSpec("default"), Report.backend());
             DevKafka kafka = DevKafka.startTemporary()) {
            PlatformTopics.create(kafka.bootstrapServers());
            try (CircuitRegistry registry = new CircuitRegistry(kafka.bootstrapServers(), PlatformTopics.CIRCUITS, model.config(),
                    model.fingerprint()); Scheduler scheduler = scheduler(model, chunk);
                 CircuitFeed feed = new CircuitFeed(kafka.bootstrapServers(), registry)) {
                scheduler.start();
                List<List<Long>> arrivals = new ArrayList<>();
                List<GenerationJob> running = new ArrayList<>();
                for (int i = 0; i < streams; i++) {
                    List<Long> times = Collections.synchronizedList(new ArrayList<>());
                    arrivals.add(times);
                    int[] prompt = model.tokenizer().encodePrompt(model.tokenizer().formatChat(
                            List.of(new ChatMessage("user", "Write a very long story about a lighthouse keeper, part " + i + ".")), true));
                    GenerationJob job = new GenerationJob(prompt, new SamplingParams(0.8f, 40, 0.95f, i, 100_000 / streams, List.of()),
                            List.of(), GenerationJob.Mode.LIVE, registry, model.config().layers(), timing(times, null), ms -> {});
                    scheduler.offer(job);
                    running.add(job);
                }
                Thread.sleep(5_000); // the gaps before any long prompt
                long joinStart = System.nanoTime();
                List<Double> ttft = new ArrayList<>();
                for (int j = 0; j < joins; j++) {
                    int[] prompt = new int[joinTokens];
                    for (int t = 0; t < joinTokens; t++) {
                        prompt[t] = 100 + (t * 7919 + j) % 20_000;
                    }
                    CompletableFuture<Long> first = new CompletableFuture<>();
                    long sent = System.nanoTime();
                    scheduler.offer(new GenerationJob(prompt, SamplingParams.greedy(1), List.of(), GenerationJob.Mode.LIVE, registry,
                            model.config().layers(), timing(new ArrayList<>(), first), ms -> {}));
                    ttft.add((first.get(10, TimeUnit.MINUTES) - sent) / 1e9);
                    Thread.sleep(1_000);
                }
                long joinEnd = System.nanoTime();
                running.forEach(GenerationJob::cancel);
                List<Double> before = new ArrayList<>();
                List<Double> during = new ArrayList<>();
                for (List<Long> times : arrivals) {
                    synchronized (times) {
                        for (int k = 1; k < times.size(); k++) {
                            double gap = (times.get(k) - times.get(k - 1)) / 1e6;
                            if (times.get(k) <= joinStart) {
                                before.add(gap);
                            } else if (times.get(k - 1) >= joinStart && times.get(k) <= joinEnd) {
                                during.add(gap);
                            }
                        }
                    }
                }
                return new Result(variant, joinTokens, chunk, pct(during, 50), pct(during, 99), pct(during, 100), pct(before, 50),
                        pct(before, 100), ttft, "ok");
            }
        }
    }

    private static Scheduler scheduler(LoadedModel model, int chunk) {
        if (chunk > 0) {
            model.backend().setPrefillChunk(chunk);
        }
        MemoryBudget budget = MemoryBudget.of(model.config(), 2L << 30, model.backend().prefillChunk());
        return new Scheduler(model.backend(), model.tokenizer(), budget, 16, 64);
    }

    private static GenerationJob.Sink timing(List<Long> times, CompletableFuture<Long> first) {
        return new GenerationJob.Sink() {
            @Override
            public void send(StreamEvent e) {
                if (e instanceof StreamEvent.Token t && t.token() != null) {
                    long now = System.nanoTime();
                    times.add(now);
                    if (first != null) {
                        first.complete(now);
                    }
                } else if (e instanceof StreamEvent.Error err && first != null) {
                    first.completeExceptionally(new IllegalStateException(err.detail()));
                }
            }

            @Override
            public void end() {
            }
        };
    }

    private static double pct(List<Double> values, int p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    private static String markdown(Map<String, Object> json, List<Result> results, int streams, int joins) {
        @SuppressWarnings("unchecked")
        String machine = Report.describe((Map<String, Object>) json.get("machine"));
        StringBuilder md = new StringBuilder("# Steering: running streams while long prompts join\n\n");
        md.append(String.format("%d sampled streams run; after 5 s, %d prompts of N tokens join one after another (each waits for "
                + "its first token, then 1 s). Gaps are between consecutive tokens of the running streams, before any join and "
                + "while the joins run; TTFT is each joining prompt's time to first token. Default model, f32, in-process "
                + "scheduler, each variant a fresh JVM. Machine: %s.%n%n", streams, joins, machine));
        md.append("Command: `").append(json.get("command")).append("`\n\n");
        md.append("| variant | join tokens | chunk | gap p50 ms | gap p99 ms | gap max ms | gap p50 / max before joins, ms | TTFT s | outcome |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---|---|\n");
        for (Result r : results) {
            md.append(String.format("| %s | %d | %s | %.0f | %.0f | %.0f | %.0f / %.0f | %s | %s |%n", r.variant, r.joinTokens,
                    r.chunk == 0 ? "none" : r.chunk, r.gapP50Ms, r.gapP99Ms, r.gapMaxMs, r.baseGapP50Ms, r.baseGapMaxMs,
                    r.ttftS.stream().map(t -> String.format("%.1f", t)).toList(), r.outcome));
        }
        md.append("\n![gaps](steering-long-prompts.png)\n");
        return md.toString();
    }

    private static void plot(List<Result> results, Path file) throws java.io.IOException {
        List<Result> ok = results.stream().filter(r -> r.outcome.equals("ok")).toList();
        if (ok.isEmpty()) {
            return;
        }
        CategoryChart chart = new CategoryChartBuilder().width(820).height(440)
                .title("Running streams' longest token gap while long prompts join").xAxisTitle("variant, joining prompt tokens")
                .yAxisTitle("ms").build();
        List<String> x = ok.stream().map(r -> r.variant + ", " + r.joinTokens).toList();
        chart.addSeries("gap max", x, ok.stream().map(r -> r.gapMaxMs).toList());
        chart.addSeries("gap p99", x, ok.stream().map(r -> r.gapP99Ms).toList());
        chart.addSeries("gap p50", x, ok.stream().map(r -> r.gapP50Ms).toList());
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
