package dev.cna.bench;

import dev.cna.core.runtime.torch.TorchBackend;
import dev.cna.core.attribution.ActivationCollector;
import dev.cna.core.attribution.SelectionOptions;
import dev.cna.core.eval.PromptSets;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.ModelStore;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.torch.WeightStorage;
import dev.cna.core.tokenizer.Tokenizer;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Attribution throughput: prompts/s of {@link ActivationCollector} (last-token neuron activations of the
 * layers contrastive discovery records) at several batch sizes over the French discovery and held-out prompts
 * with the chat template, as ratios to batch 1 (one prompt at a time). Also checks that every batch size
 * returns the activations batch 1 returns.
 *
 * <p>Run with {@code bench/attribution/run}; writes bench/results/attribution.{md,json,png}.
 */
public final class AttributionBench {
    private record Result(int batch, double promptsPerSecond, double[] runsPromptsPerSecond, double tokensPerSecond,
                          double paddedTokenShare, double maxAbsDiffVsBatch1) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = Report.options(args);
        Path model = Path.of(opts.getOrDefault("model", ModelStore.defaultModel().toString()));
        Path out = Path.of(opts.getOrDefault("out", "bench/results"));
        Path datasets = Path.of(opts.getOrDefault("datasets", "datasets"));
        String behavior = opts.getOrDefault("behavior", "french");
        int[] batches = Arrays.stream(opts.getOrDefault("batches", "1,4,16,32").split(",")).mapToInt(Integer::parseInt).toArray();
        int repeats = Integer.parseInt(opts.getOrDefault("repeats", "3"));
        WeightStorage storage = WeightStorage.valueOf(opts.getOrDefault("storage", "F32"));
        String threads = System.getenv("OMP_NUM_THREADS");
        String command = (threads == null ? "" : "OMP_NUM_THREADS=" + threads + " ") + "bench/attribution/run"
                + (args.length == 0 ? "" : " " + String.join(" ", args));

        List<String> prompts = new ArrayList<>();
        for (String split : List.of("discovery", "heldout")) {
            PromptSets.Contrast c = PromptSets.contrast(datasets, behavior, split);
            prompts.addAll(c.positive());
            prompts.addAll(c.negative());
        }

        List<Result> results = new ArrayList<>();
        ModelConfig config;
        boolean[] layers;
        int[] lengths;
        Files.createDirectories(out);
        try (WeightSource source = ModelLoader.open(model); Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec());
             TorchBackend transformer = TorchBackend.load(source, storage)) {
            config = source.config();
            layers = new boolean[config.layers()];
            SelectionOptions.defaults().includedLayers(config.layers()).forEach(l -> layers[l] = true);
            ActivationCollector probe = new ActivationCollector(transformer, tokenizer, 1);
            lengths = prompts.stream().mapToInt(p -> probe.promptTokens(p, true).length).toArray();
            float[][][] reference = null;
            for (int batch : batches) {
                Report.progress("batch %d ...", batch);
                ActivationCollector collector = new ActivationCollector(transformer, tokenizer, batch);
                long w0 = System.nanoTime();
                float[][][] warmUp = collector.neurons(prompts, true, layers); // warm-up run, kept for the check
                Report.progress("  warm-up %.1f s", (System.nanoTime() - w0) / 1e9);
                if (reference == null) {
                    reference = warmUp;
                }
                double diff = maxAbsDiff(reference, warmUp);
                double[] runs = new double[repeats];
                for (int r = 0; r < repeats; r++) {
                    long t0 = System.nanoTime();
                    collector.neurons(prompts, true, layers);
                    runs[r] = prompts.size() * 1e9 / (System.nanoTime() - t0);
                    Report.progress("  run %d: %.1f prompts/s", r + 1, runs[r]);
                }
                double pps = Report.median(runs);
                int tokens = Arrays.stream(lengths).sum();
                results.add(new Result(batch, pps, runs, pps * tokens / prompts.size(), paddedShare(lengths, batch), diff));
                Report.progress("  %.1f prompts/s (runs %s), max |diff| vs batch 1 %.2e", pps, Arrays.toString(runs), diff);
                write(out, command, model, storage, behavior, prompts, lengths, config, repeats, results);
            }
        }
        Report.progress("wrote %s/attribution.{md,json,png}", out);
    }

    private static void write(Path out, String command, Path model, WeightStorage storage, String behavior, List<String> prompts,
                              int[] lengths, ModelConfig config, int repeats, List<Result> results) throws java.io.IOException {

        double base = results.stream().filter(r -> r.batch == 1).mapToDouble(Result::promptsPerSecond).findFirst()
                .orElse(results.get(0).promptsPerSecond);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("machine", Report.machine());
        json.put("command", command);
        json.put("model", model.getFileName().toString());
        json.put("storage", storage.name());
        json.put("torchThreads", System.getenv().getOrDefault("OMP_NUM_THREADS", "default (one per core)"));
        json.put("prompts", prompts.size());
        json.put("promptSet", "datasets/" + behavior + "/{discovery,heldout}.{positive,negative}.txt, chat template on");
        json.put("tokensPerPrompt", Map.of("min", Arrays.stream(lengths).min().orElse(0), "max", Arrays.stream(lengths).max().orElse(0),
                "mean", Arrays.stream(lengths).average().orElse(0)));
        json.put("recordedLayers", SelectionOptions.defaults().includedLayers(config.layers()));
        json.put("neuronsPerPrompt", (long) SelectionOptions.defaults().includedLayers(config.layers()).size() * config.intermediateSize());
        json.put("repeats", repeats);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Result r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("batch", r.batch);
            row.put("promptsPerSecond", r.promptsPerSecond);
            row.put("runsPromptsPerSecond", r.runsPromptsPerSecond);
            row.put("tokensPerSecond", r.tokensPerSecond);
            row.put("speedupVsBatch1", r.promptsPerSecond / base);
            row.put("paddedTokenShare", r.paddedTokenShare);
            row.put("maxAbsDiffVsBatch1", r.maxAbsDiffVsBatch1);
            rows.add(row);
        }
        json.put("results", rows);
        Files.createDirectories(out);
        Report.writeJson(out.resolve("attribution.json"), json);
        Files.writeString(out.resolve("attribution.md"), markdown(json, results, base), StandardCharsets.UTF_8);
        plot(results, base, out.resolve("attribution.png"));
    }

    /** Share of the batch's token slots that are left padding, with prompts sorted by length as the collector does. */
    private static double paddedShare(int[] lengths, int batch) {
        int[] sorted = lengths.clone();
        Arrays.sort(sorted);
        long real = 0;
        long slots = 0;
        for (int start = 0; start < sorted.length; start += batch) {
            int end = Math.min(sorted.length, start + batch);
            int width = sorted[end - 1];
            for (int i = start; i < end; i++) {
                real += sorted[i];
            }
            slots += (long) width * (end - start);
        }
        return 1 - (double) real / slots;
    }

    private static double maxAbsDiff(float[][][] a, float[][][] b) {
        double max = 0;
        for (int p = 0; p < a.length; p++) {
            for (int l = 0; l < a[p].length; l++) {
                if (a[p][l] == null) {
                    continue;
                }
                for (int i = 0; i < a[p][l].length; i++) {
                    max = Math.max(max, Math.abs(a[p][l][i] - b[p][l][i]));
                }
            }
        }
        return max;
    }

    private static String markdown(Map<String, Object> json, List<Result> results, double base) {
        @SuppressWarnings("unchecked")
        Map<String, Object> machine = (Map<String, Object>) json.get("machine");
        @SuppressWarnings("unchecked")
        Map<String, Object> tokens = (Map<String, Object>) json.get("tokensPerPrompt");
        StringBuilder md = new StringBuilder("# Attribution throughput\n\n");
        md.append("Produced by `").append(json.get("command")).append("` (").append(Report.describe(machine)).append(").\n\n");
        md.append("PyTorch intra-op threads: ").append(json.get("torchThreads")).append(".\n\n");
        md.append(String.format("Model `%s` (%s weights). `ActivationCollector` records the last-token neuron activations of "
                        + "layers %s (%s neurons per prompt) for the %s prompts of %s (%d-%d tokens, mean %.1f). "
                        + "Prompts are sorted by length and left-padded per batch; the forward pass stops after the last "
                        + "recorded layer and computes no logits. Batch 1 is one prompt at a time. "
                        + "Median of %s runs after a warm-up run.%n%n",
                json.get("model"), json.get("storage"), json.get("recordedLayers"), json.get("neuronsPerPrompt"), json.get("prompts"),
                json.get("promptSet"), ((Number) tokens.get("min")).intValue(), ((Number) tokens.get("max")).intValue(),
                ((Number) tokens.get("mean")).doubleValue(), json.get("repeats")));
        md.append("| batch | prompts/s | tokens/s | vs batch 1 | padded token share | max abs diff vs batch 1 | runs (prompts/s) |\n"
                + "|---|---|---|---|---|---|---|\n");
        for (Result r : results) {
            md.append(String.format("| %d | %.1f | %.0f | %.2fx | %.1f%% | %.1e | %s |%n", r.batch, r.promptsPerSecond, r.tokensPerSecond,
                    r.promptsPerSecond / base, 100 * r.paddedTokenShare, r.maxAbsDiffVsBatch1,
                    String.join(", ", Arrays.stream(r.runsPromptsPerSecond).mapToObj(v -> String.format("%.1f", v)).toList())));
        }
        md.append("\nThe last-but-one column is the largest difference, over all prompts and recorded neurons, between the "
                + "activations of that batch size and those of batch 1 (warm-up run): batching changes only float rounding.\n");
        md.append("\n![attribution throughput](attribution.png)\n");
        return md.toString();
    }

    private static void plot(List<Result> results, double base, Path file) throws java.io.IOException {
        List<String> x = results.stream().map(r -> String.valueOf(r.batch)).toList();
        CategoryChart pps = new CategoryChartBuilder().width(640).height(420)
                .title("ActivationCollector prompts/s by batch size").xAxisTitle("batch").yAxisTitle("prompts/s").build();
        pps.addSeries("prompts/s", x, results.stream().map(r -> r.promptsPerSecond).toList());
        CategoryChart ratio = new CategoryChartBuilder().width(640).height(420)
                .title("speed-up vs batch 1").xAxisTitle("batch").yAxisTitle("x batch 1").build();
        ratio.addSeries("speed-up", x, results.stream().map(r -> r.promptsPerSecond / base).toList());
        BitmapEncoder.saveBitmap(new ArrayList<>(List.of(pps, ratio)), 1, 2, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
