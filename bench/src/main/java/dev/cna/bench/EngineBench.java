package dev.cna.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.core.generate.Sampler;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.ModelStore;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.KvCache;
import dev.cna.core.runtime.Transformer;
import dev.cna.core.runtime.WeightStorage;
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
 * Engine throughput: prefill and decode tokens/s at several batch sizes for each weight storage, and
 * llama.cpp (llama-cpp-python) on the same GGUF in the same run, as ratios. Also the machine's read
 * bandwidth and the batch-1 decode bound it implies.
 *
 * <p>Run with {@code bench/engine/run}; writes bench/results/engine.{md,json,png}.
 */
public final class EngineBench {
    private static final String TEXT = "The history of the printing press begins in the fifteenth century, when "
            + "Johannes Gutenberg combined movable metal type, oil-based ink and a wooden screw press into a system "
            + "that could produce books quickly and cheaply. Within fifty years printing shops had spread across "
            + "Europe, and the number of books in circulation grew from thousands to millions, changing religion, "
            + "science and politics in ways that nobody at the time could have predicted.";

    private record Result(String engine, int batch, double prefillTokS, double decodeTokS) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = Report.options(args);
        Path model = Path.of(opts.getOrDefault("model", ModelStore.defaultModel().toString()));
        Path out = Path.of(opts.getOrDefault("out", "bench/results"));
        int[] batches = Arrays.stream(opts.getOrDefault("batches", "1,4,16").split(",")).mapToInt(Integer::parseInt).toArray();
        int promptTokens = Integer.parseInt(opts.getOrDefault("prompt-tokens", "64"));
        int decodeSteps = Integer.parseInt(opts.getOrDefault("decode-steps", "32"));
        int repeats = Integer.parseInt(opts.getOrDefault("repeats", "3"));
        // The first storage runs at every batch size; the others, slower on CPU, at the batch sizes given here.
        List<WeightStorage> storages = Arrays.stream(opts.getOrDefault("storages", "F32,F16").split(","))
                .map(WeightStorage::valueOf).toList();
        int[] otherBatches = Arrays.stream(opts.getOrDefault("other-storage-batches", "1").split(","))
                .mapToInt(Integer::parseInt).toArray();
        String script = opts.getOrDefault("llamacpp", "bench/engine/llamacpp_bench.py");

        List<Result> results = new ArrayList<>();
        ModelConfig config;
        int[] prompt;
        double bandwidth = readBandwidthGBs();
        Report.progress("read bandwidth: %.1f GB/s", bandwidth);
        try (WeightSource source = ModelLoader.open(model); Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec())) {
            config = source.config();
            prompt = Arrays.copyOf(tokenizer.encode(TEXT), promptTokens);
            for (WeightStorage storage : storages) {
                try (Transformer transformer = Transformer.load(source, storage)) {
                    for (int batch : storage == storages.get(0) ? batches : otherBatches) {
                        Report.progress("cna %s batch %d ...", storage, batch);
                        results.add(measure(transformer, "cna-" + storage.name().toLowerCase(), prompt, batch, decodeSteps, repeats));
                        Report.progress("  %s", results.get(results.size() - 1));
                    }
                }
            }
        }
        Report.progress("llama.cpp ...");
        JsonNode llama = runLlamaCpp(script, model, batches, promptTokens, decodeSteps);
        for (JsonNode r : llama.path("results")) {
            results.add(new Result("llama.cpp", r.path("batch").asInt(), r.path("prefill_tok_s").asDouble(), r.path("decode_tok_s").asDouble()));
        }

        long bytesF32 = weightBytesPerToken(config, 4);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("machine", Report.machine());
        json.put("model", model.getFileName().toString());
        json.put("promptTokens", promptTokens);
        json.put("decodeSteps", decodeSteps);
        json.put("repeats", repeats);
        json.put("readBandwidthGBs", bandwidth);
        json.put("f32WeightBytesPerToken", bytesF32);
        json.put("f32Batch1DecodeBoundTokS", bandwidth * 1e9 / bytesF32);
        json.put("llamacpp", Map.of("version", llama.path("version").asText(), "threads", llama.path("threads").asInt()));
        json.put("results", results);
        Files.createDirectories(out);
        Report.writeJson(out.resolve("engine.json"), json);
        Files.writeString(out.resolve("engine.md"), markdown(json, results, batches, storages), StandardCharsets.UTF_8);
        plot(results, batches, out.resolve("engine.png"));
        Report.progress("wrote %s/engine.{md,json,png}", out);
    }

    /** Median over repeats of prefill and decode throughput, after one warm-up run. */
    private static Result measure(Transformer model, String engine, int[] prompt, int batch, int steps, int repeats) {
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
        return new Result(engine, batch, Report.median(prefill), Report.median(decode));
    }

    /** GB/s of summing a 1 GiB f32 array on the engine, the best of five: what bounds batch-1 decode. */
    private static double readBandwidthGBs() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray big = manager.ones(new Shape(1L << 28));
            double best = 0;
            for (int i = 0; i < 6; i++) {
                long t0 = System.nanoTime();
                big.sum().getFloat();
                long dt = System.nanoTime() - t0;
                if (i > 0) {
                    best = Math.max(best, (1L << 30) / (double) dt);
                }
            }
            return best;
        }
    }

    /** Bytes of projection weights one decode step reads: q, k, v, o, gate, up, down in every layer, and the head. */
    private static long weightBytesPerToken(ModelConfig c, int bytesPerWeight) {
        long perLayer = (long) c.hiddenSize() * (c.heads() + 2L * c.kvHeads()) * c.headDim()
                + (long) c.heads() * c.headDim() * c.hiddenSize()
                + 3L * c.hiddenSize() * c.intermediateSize();
        return (perLayer * c.layers() + (long) c.hiddenSize() * c.vocabSize()) * bytesPerWeight;
    }

    private static JsonNode runLlamaCpp(String script, Path model, int[] batches, int promptTokens, int steps)
            throws IOException, InterruptedException {
        String joined = String.join(",", Arrays.stream(batches).mapToObj(String::valueOf).toList());
        Process p = new ProcessBuilder("python3", script, "--model", model.toString(), "--batches", joined,
                "--prompt-tokens", String.valueOf(promptTokens), "--decode-steps", String.valueOf(steps))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] stdout = p.getInputStream().readAllBytes();
        if (p.waitFor() != 0) {
            throw new IOException(script + " failed with exit code " + p.exitValue());
        }
        return new ObjectMapper().readTree(stdout);
    }

    private static String markdown(Map<String, Object> json, List<Result> results, int[] batches, List<WeightStorage> storages) {
        StringBuilder md = new StringBuilder("# Engine throughput\n\n");
        @SuppressWarnings("unchecked")
        Map<String, Object> machine = (Map<String, Object>) json.get("machine");
        md.append("Produced by `bench/engine/run` (").append(Report.describe(machine)).append(").\n\n");
        md.append(String.format("Model `%s`; prompt %s tokens per sequence, %s decode steps, median of %s runs after a warm-up. "
                        + "Prefill: all rows in one batch. Decode: one token per row per step; tok/s counts all rows.%n%n",
                json.get("model"), json.get("promptTokens"), json.get("decodeSteps"), json.get("repeats")));
        md.append("| engine | batch | prefill tok/s | decode tok/s | prefill vs llama.cpp | decode vs llama.cpp |\n|---|---|---|---|---|---|\n");
        for (Result r : results) {
            Result ref = find(results, "llama.cpp", r.batch);
            md.append(String.format("| %s | %d | %.1f | %.1f | %s | %s |%n", r.engine, r.batch, r.prefillTokS, r.decodeTokS,
                    ref == null ? "-" : String.format("%.2fx", r.prefillTokS / ref.prefillTokS),
                    ref == null ? "-" : String.format("%.2fx", r.decodeTokS / ref.decodeTokS)));
        }
        md.append(String.format("%n## Memory-bandwidth bound of batch-1 decode%n%n"
                        + "Weights stored as f32: one decode step reads %.0f MB of projection and head weights. "
                        + "Measured read bandwidth (sum of a 1 GiB f32 array on the engine, best of 5): %.1f GB/s, "
                        + "so batch-1 decode cannot exceed **%.1f tok/s** in f32; f16 storage halves the bytes (bound %.1f tok/s) "
                        + "but is only faster where the CPU's half-precision matmul keeps up (see below).%n",
                ((Number) json.get("f32WeightBytesPerToken")).longValue() / 1e6, (double) json.get("readBandwidthGBs"),
                (double) json.get("f32Batch1DecodeBoundTokS"), 2 * (double) json.get("f32Batch1DecodeBoundTokS")));
        if (storages.size() > 1) {
            md.append("\n## Weight storage\n\n| batch | ");
            storages.forEach(s -> md.append("decode tok/s ").append(s).append(" | "));
            md.append("\n|---|").append("---|".repeat(storages.size())).append('\n');
            for (int b : batches) {
                md.append("| ").append(b).append(" | ");
                for (WeightStorage s : storages) {
                    Result r = find(results, "cna-" + s.name().toLowerCase(), b);
                    md.append(r == null ? "-" : String.format("%.1f", r.decodeTokS)).append(" | ");
                }
                md.append('\n');
            }
        }
        md.append("\n![throughput](engine.png)\n");
        return md.toString();
    }

    private static void plot(List<Result> results, int[] batches, Path file) throws IOException {
        List<CategoryChart> charts = new ArrayList<>();
        for (String metric : List.of("prefill", "decode")) {
            CategoryChart chart = new CategoryChartBuilder().width(640).height(420)
                    .title(metric + " tokens/s by batch size").xAxisTitle("batch").yAxisTitle("tokens/s").build();
            List<String> x = Arrays.stream(batches).mapToObj(String::valueOf).toList();
            for (String engine : results.stream().map(Result::engine).distinct().toList()) {
                List<Double> y = new ArrayList<>();
                for (int b : batches) {
                    Result r = find(results, engine, b);
                    y.add(r == null ? 0 : metric.equals("prefill") ? r.prefillTokS : r.decodeTokS);
                }
                chart.addSeries(engine, x, y);
            }
            charts.add(chart);
        }
        BitmapEncoder.saveBitmap(new ArrayList<>(charts), 1, 2, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static Result find(List<Result> results, String engine, int batch) {
        return results.stream().filter(r -> r.engine.equals(engine) && r.batch == batch).findFirst().orElse(null);
    }
}
