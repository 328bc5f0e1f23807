package dev.cna.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.core.generate.Sampler;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.ModelStore;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.BackendOptions;
import dev.cna.core.runtime.KvCache;
import dev.cna.core.runtime.cpu.CpuBackend;
import dev.cna.core.tokenizer.Tokenizer;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Engine throughput and memory, per model: prefill and decode tokens/s at several batch sizes on the cpu backend
 * (quantized blocks, Vector API), on the torch reference (f32 weights; batch sizes of --torch-batches, none to skip
 * it), and llama.cpp (llama-cpp-python) on the same GGUF with the same threads, in the same run, as ratios, and as
 * GFLOP/s of the model's matrix work against the f32 FMA peak measured in the same run ({@link FmaPeak}). Memory:
 * the peak resident set of a fresh JVM that loads the model on the cpu backend and generates (prefill + decode at
 * the largest batch), sampled from /proc.
 *
 * <p>Run with {@code bench/engine/run [--models default,FILE...]}; writes bench/results/engine.{md,json,png}.
 */
public final class EngineBench {
    private static final String TEXT = "The history of the printing press begins in the fifteenth century, when "
            + "Johannes Gutenberg combined movable metal type, oil-based ink and a wooden screw press into a system "
            + "that could produce books quickly and cheaply. Within fifty years printing shops had spread across "
            + "Europe, and the number of books in circulation grew from thousands to millions, changing religion, "
            + "science and politics in ways that nobody at the time could have predicted.";

    private record Result(String model, String engine, int batch, double prefillTokS, double decodeTokS) {}

    /** Peak resident memory of a process serving the model on the cpu backend, and what it mapped. */
    private record Memory(String model, long peakRssBytes, long weightBytes, int batch) {}

    /**
     * A model's matrix work per token in FLOPs (2 per multiply-add, attention's own products left out): a decoded token
     * runs every projection and the head, a prefilled one every projection (the head runs once per sequence).
     */
    private record Work(String model, double decodeFlops, double prefillFlops) {
        static Work of(String model, ModelConfig c) {
            long q = (long) c.heads() * c.headDim(), kv = (long) c.kvHeads() * c.headDim();
            long perLayer = c.hiddenSize() * (q + 2 * kv) + q * c.hiddenSize() + 3L * c.hiddenSize() * c.intermediateSize();
            double layers = 2.0 * c.layers() * perLayer;
            return new Work(model, layers + 2.0 * c.hiddenSize() * c.vocabSize(), layers);
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = Report.options(args);
        if (opts.containsKey("probe-memory")) {
            probeMemory(Path.of(opts.get("probe-memory")), Integer.parseInt(opts.get("batch")),
                    Integer.parseInt(opts.get("prompt-tokens")), Integer.parseInt(opts.get("decode-steps")));
            return;
        }
        List<Path> models = Arrays.stream(opts.getOrDefault("models", "default").split(","))
                .map(m -> m.equals("default") ? ModelStore.defaultModel() : Path.of(m)).toList();
        Path out = Path.of(opts.getOrDefault("out", "bench/results"));
        int[] batches = ints(opts.getOrDefault("batches", "1,4,16"));
        int[] torchBatches = ints(opts.getOrDefault("torch-batches", "1,16"));
        int promptTokens = Integer.parseInt(opts.getOrDefault("prompt-tokens", "64"));
        int decodeSteps = Integer.parseInt(opts.getOrDefault("decode-steps", "32"));
        int repeats = Integer.parseInt(opts.getOrDefault("repeats", "3"));
        int threads = Integer.parseInt(opts.getOrDefault("threads", String.valueOf(Runtime.getRuntime().availableProcessors())));
        String script = opts.getOrDefault("llamacpp", "bench/engine/llamacpp_bench.py");

        double peak = FmaPeak.gflops(threads, 3);
        Report.progress("f32 FMA peak on %d threads: %.1f GFLOP/s", threads, peak);
        List<Result> results = new ArrayList<>();
        List<Memory> memory = new ArrayList<>();
        List<Work> work = new ArrayList<>();
        String llamaVersion = "";
        for (Path model : models) {
            String name = model.getFileName().toString();
            try (WeightSource source = ModelLoader.open(model); Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec())) {
                int[] prompt = Arrays.copyOf(tokenizer.encode(TEXT), promptTokens);
                try (Backend cpu = BackendOptions.cpu().withThreads(threads).load(source)) {
                    work.add(Work.of(name, cpu.config()));
                    for (int batch : batches) {
                        results.add(measure(cpu, name, "cna-cpu", prompt, batch, decodeSteps, repeats));
                        Report.progress("  %s", results.get(results.size() - 1));
                    }
                }
                if (torchBatches.length > 0) {
                    System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(threads));
                    try (Backend torch = BackendOptions.torch().load(source)) {
                        for (int batch : torchBatches) {
                            results.add(measure(torch, name, "cna-torch", prompt, batch, decodeSteps, repeats));
                            Report.progress("  %s", results.get(results.size() - 1));
                        }
                    }
                }
            }
            Report.progress("llama.cpp on %s ...", name);
            JsonNode llama = runLlamaCpp(script, model, batches, promptTokens, decodeSteps, threads, repeats);
            llamaVersion = llama.path("version").asText();
            for (JsonNode r : llama.path("results")) {
                results.add(new Result(name, "llama.cpp", r.path("batch").asInt(), r.path("prefill_tok_s").asDouble(),
                        r.path("decode_tok_s").asDouble()));
            }
            int largest = Arrays.stream(batches).max().getAsInt();
            Report.progress("memory of a cpu-backend process serving %s (batch %d) ...", name, largest);
            Report.ProbeRun run = Report.probe(EngineBench.class, "", 16L << 30, "--probe-memory", model.toString(),
                    "--batch", String.valueOf(largest), "--prompt-tokens", String.valueOf(promptTokens),
                    "--decode-steps", String.valueOf(decodeSteps));
            if (run.exitCode() != 0 || run.lastLine() == null) {
                throw new IOException("memory probe of " + name + " failed (exit " + run.exitCode() + ")");
            }
            memory.add(new Memory(name, run.peakRssBytes(), Long.parseLong(run.lastLine()), largest));
            Report.progress("  peak RSS %.2f GiB", run.peakRssBytes() / (double) (1L << 30));
        }

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("machine", Report.machine());
        json.put("models", models.stream().map(m -> m.getFileName().toString()).toList());
        json.put("threads", threads);
        json.put("fmaPeakGflops", peak);
        json.put("work", work);
        json.put("promptTokens", promptTokens);
        json.put("decodeSteps", decodeSteps);
        json.put("repeats", repeats);
        json.put("llamacpp", llamaVersion);
        json.put("results", results);
        json.put("memory", memory);
        Files.createDirectories(out);
        Report.writeJson(out.resolve("engine.json"), json);
        Files.writeString(out.resolve("engine.md"), markdown(json, results, memory, work), StandardCharsets.UTF_8);
        plot(results, out.resolve("engine.png"));
        Report.progress("wrote %s/engine.{md,json,png}", out);
    }

    private static int[] ints(String csv) {
        return csv.isBlank() || csv.equals("none") ? new int[0] : Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    /** The child of the memory probe: load on the cpu backend, generate, print the weight bytes mapped. */
    private static void probeMemory(Path model, int batch, int promptTokens, int steps) {
        try (WeightSource source = ModelLoader.open(model); Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec());
             CpuBackend cpu = (CpuBackend) BackendOptions.cpu().load(source)) {
            int[] prompt = Arrays.copyOf(tokenizer.encode(TEXT), promptTokens);
            measure(cpu, model.getFileName().toString(), "cna-cpu", prompt, batch, steps, 1);
            System.out.println(cpu.weightBytes());
        }
    }

    /** Median over repeats of prefill and decode throughput, after one warm-up run. */
    private static Result measure(Backend model, String modelName, String engine, int[] prompt, int batch, int steps, int repeats) {
        Report.progress("%s %s batch %d ...", modelName, engine, batch);
        List<int[]> prompts = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            prompts.add(prompt);
        }
        double[] prefill = new double[repeats];
        double[] decode = new double[repeats];
        for (int r = -1; r < repeats; r++) {
            try (KvCache cache = model.newCache(batch)) {
                long t0 = System.nanoTime();
                float[][] logits = model.prefill(cache, prompts, null);
                long t1 = System.nanoTime();
                int[] next = new int[batch];
                for (int s = 0; s < steps; s++) {
                    for (int b = 0; b < batch; b++) {
                        next[b] = Sampler.argMax(logits[b]);
                    }
                    logits = model.decode(cache, next, null);
                }
                long t2 = System.nanoTime();
                if (r >= 0) {
                    prefill[r] = (double) batch * prompt.length * 1e9 / (t1 - t0);
                    decode[r] = (double) batch * steps * 1e9 / (t2 - t1);
                }
            }
        }
        return new Result(modelName, engine, batch, Report.median(prefill), Report.median(decode));
    }

    private static JsonNode runLlamaCpp(String script, Path model, int[] batches, int promptTokens, int steps, int threads,
                                        int repeats) throws IOException, InterruptedException {
        String joined = String.join(",", Arrays.stream(batches).mapToObj(String::valueOf).toList());
        Process p = new ProcessBuilder("python3", script, "--model", model.toString(), "--batches", joined,
                "--prompt-tokens", String.valueOf(promptTokens), "--decode-steps", String.valueOf(steps),
                "--threads", String.valueOf(threads), "--repeats", String.valueOf(repeats))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] stdout = p.getInputStream().readAllBytes();
        if (p.waitFor() != 0) {
            throw new IOException(script + " failed with exit code " + p.exitValue());
        }
        return new ObjectMapper().readTree(stdout);
    }

    private static String markdown(Map<String, Object> json, List<Result> results, List<Memory> memory, List<Work> work) {
        StringBuilder md = new StringBuilder("# Engine throughput and memory\n\n");
        @SuppressWarnings("unchecked")
        Map<String, Object> machine = (Map<String, Object>) json.get("machine");
        md.append("Produced by `bench/engine/run` (").append(Report.describe(machine)).append(").\n\n");
        md.append(String.format("Every engine with %s threads; llama.cpp is %s on the same GGUF file. Prompt %s tokens per "
                        + "sequence, %s decode steps, median of %s runs after a warm-up. Prefill: all rows in one batch. "
                        + "Decode: one token per row per step; tok/s counts all rows (llama.cpp: that many parallel "
                        + "sequences). `cna-cpu` computes on the file's quantized blocks (Vector API); `cna-torch` is the "
                        + "f32 reference on DJL/PyTorch.%n",
                json.get("threads"), json.get("llamacpp"), json.get("promptTokens"), json.get("decodeSteps"), json.get("repeats")));
        double peak = (Double) json.get("fmaPeakGflops");
        md.append(String.format("%nGFLOP/s counts each engine's tokens at the model's matrix work per token (2 per "
                + "multiply-add: every projection, and for a decoded token the head too; attention left out), and %% is that "
                + "share of the f32 FMA peak of this JVM on as many threads, measured in the same run (`FmaPeak`: %.1f "
                + "GFLOP/s). llama.cpp multiplies in int8, so its share can pass 100%%; ours, in f32, cannot.%n", peak));
        for (String model : results.stream().map(Result::model).distinct().toList()) {
            Work w = work.stream().filter(x -> x.model.equals(model)).findFirst().orElseThrow();
            md.append("\n## ").append(model).append("\n\n");
            md.append(String.format("%.2f GFLOP per decoded token, %.2f per prefilled one.%n%n", w.decodeFlops / 1e9, w.prefillFlops / 1e9));
            md.append("| engine | batch | prefill tok/s | decode tok/s | prefill vs llama.cpp | decode vs llama.cpp | prefill GFLOP/s (% of peak) | decode GFLOP/s (% of peak) |\n"
                    + "|---|---|---|---|---|---|---|---|\n");
            for (Result r : results) {
                if (!r.model.equals(model)) {
                    continue;
                }
                Result ref = find(results, model, "llama.cpp", r.batch);
                double prefill = r.prefillTokS * w.prefillFlops / 1e9, decode = r.decodeTokS * w.decodeFlops / 1e9;
                md.append(String.format("| %s | %d | %.1f | %.1f | %s | %s | %.0f (%.0f%%) | %.0f (%.0f%%) |%n", r.engine, r.batch,
                        r.prefillTokS, r.decodeTokS,
                        ref == null ? "-" : String.format("%.2fx", r.prefillTokS / ref.prefillTokS),
                        ref == null ? "-" : String.format("%.2fx", r.decodeTokS / ref.decodeTokS),
                        prefill, 100 * prefill / peak, decode, 100 * decode / peak));
            }
            Result llama1 = find(results, model, "llama.cpp", 1);
            Result llama16 = find(results, model, "llama.cpp", 16);
            if (llama1 != null && llama16 != null) {
                double prefillTarget = 0.8 * llama1.prefillTokS * w.prefillFlops / 1e9;
                double decodeTarget = 1.5 * llama16.decodeTokS * w.decodeFlops / 1e9;
                md.append(String.format("%nIssue 14's targets as f32 work: prefill >= 0.8x llama.cpp = %.0f GFLOP/s (%.0f%% of "
                        + "the peak); 16-row decode >= 1.5x llama.cpp = %.0f GFLOP/s (%.0f%% of the peak).%n",
                        prefillTarget, 100 * prefillTarget / peak, decodeTarget, 100 * decodeTarget / peak));
            }
        }
        md.append("\n## Memory\n\nPeak resident set (VmRSS sampled every 50 ms) of a fresh JVM (`-Xmx2g`) that loads the model "
                + "on the cpu backend and runs the prefill and decode above at the largest batch; the weights are the file's "
                + "blocks, memory-mapped.\n\n| model | batch | weights mapped | peak RSS |\n|---|---|---|---|\n");
        for (Memory m : memory) {
            md.append(String.format("| %s | %d | %.2f GB | %.2f GiB |%n", m.model, m.batch, m.weightBytes / 1e9,
                    m.peakRssBytes / (double) (1L << 30)));
        }
        md.append("\n![throughput](engine.png)\n");
        return md.toString();
    }

    /** Decode tok/s by batch, one chart per model, a series per engine. */
    private static void plot(List<Result> results, Path file) throws IOException {
        List<CategoryChart> charts = new ArrayList<>();
        for (String model : results.stream().map(Result::model).distinct().toList()) {
            CategoryChart chart = new CategoryChartBuilder().width(640).height(420)
                    .title(model + ": decode tokens/s").xAxisTitle("batch").yAxisTitle("tokens/s (all rows)").build();
            List<Integer> batches = results.stream().filter(r -> r.model.equals(model)).map(Result::batch).distinct().sorted().toList();
            List<String> x = batches.stream().map(String::valueOf).toList();
            for (String engine : results.stream().filter(r -> r.model.equals(model)).map(Result::engine).distinct().toList()) {
                List<Double> y = new ArrayList<>();
                for (int b : batches) {
                    Result r = find(results, model, engine, b);
                    y.add(r == null ? 0 : r.decodeTokS);
                }
                chart.addSeries(engine, x, y);
            }
            charts.add(chart);
        }
        BitmapEncoder.saveBitmap(new ArrayList<>(charts), 1, charts.size(), file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static Result find(List<Result> results, String model, String engine, int batch) {
        return results.stream().filter(r -> r.model.equals(model) && r.engine.equals(engine) && r.batch == batch).findFirst().orElse(null);
    }
}
