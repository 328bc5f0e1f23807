package dev.cna.core.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cna.core.cna.ActivationCollector;
import dev.cna.core.cna.Circuit;
import dev.cna.core.cna.CircuitJson;
import dev.cna.core.eval.BehaviorDetector;
import dev.cna.core.eval.Divergence;
import dev.cna.core.eval.EvalReport;
import dev.cna.core.eval.EvalRow;
import dev.cna.core.eval.PromptSets;
import dev.cna.core.eval.Quality;
import dev.cna.core.generate.Generation;
import dev.cna.core.generate.Generator;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.runtime.KvCache;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.runtime.MlpHook;
import dev.cna.core.runtime.NeuronScaling;
import dev.cna.core.steer.CaaPlan;
import dev.cna.core.steer.CircuitStrength;
import dev.cna.core.steer.SteeringPlan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import java.util.stream.IntStream;

/**
 * {@code cna eval}: the steering sweep of CNA.md section 5. For each multiplier m the circuit's neurons are
 * scaled by m while the model answers the held-out positive prompts (and, with {@code --negative}, the
 * negative ones); the behavior rate, the quality and the next-token KL on neutral text are measured. With
 * {@code --caa} the residual-stream baseline runs at matching strengths.
 *
 * <p>CAA strength mapping: for multiplier m, {@code alpha = m - 1}. m = 1 (unsteered) is alpha = 0; m = 0
 * (ablation, suppression) is alpha = -1, i.e. the whole mean difference of the MLP outputs is subtracted
 * in every layer, which moves a positive prompt's last-token MLP outputs to the negative prompts' mean;
 * m = 2 (amplification) is alpha = +1. {@code --caa-alphas} adds further alphas.
 *
 * <p>KL: for each neutral prompt, fed as raw text (no chat template: neutral.txt holds sentence openings),
 * {@code KL(unsteered || steered)} of the next-token distribution at the last position, averaged.
 *
 * <p>Decoding is greedy by default. With {@code --temperature} it samples {@code --samples} replies per prompt;
 * the seed of a reply depends only on its prompt and sample index, so every strength draws the same random
 * numbers and strengths differ only by the steering. m = 1 and alpha = 0 are the same unsteered run and are
 * generated once.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Sweep a circuit's multiplier (and optionally CAA) on held-out prompts: behavior rate, quality, KL.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--circuit", required = true, description = "Circuit JSON (from cna attribute).")
    Path circuitFile;

    @Option(names = "--prompts", required = true, description = "Held-out prompts that show the behavior (positive).")
    Path prompts;

    @Option(names = "--negative", description = "Held-out prompts without the behavior (does steering create it?).")
    Path negative;

    @Option(names = "--neutral", description = "Neutral raw text for the next-token KL of steered vs unsteered.")
    Path neutral;

    @Option(names = "--behavior", description = "Detector: refusal or french (default: from the circuit name).")
    String behavior;

    @Option(names = "--multipliers", split = ",", defaultValue = "0,0.5,1,2",
            description = "Circuit multipliers m (default: ${DEFAULT-VALUE}).")
    List<Double> multipliers;

    @Option(names = "--caa", split = ",", paramLabel = "POSFILE,NEGFILE",
            description = "Run CAA too, with the mean-difference vector of these discovery prompts; alpha = m - 1.")
    List<Path> caa;

    @Option(names = "--caa-alphas", split = ",", description = "Extra CAA alphas beyond the matching ones.")
    List<Double> caaAlphas = new ArrayList<>();

    @Option(names = "--max-tokens", defaultValue = "48", description = "Tokens per reply (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "Sampling temperature; 0 = greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Sample from the k most likely tokens; 0 = all (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus sampling mass (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--seed", defaultValue = "0", description = "Base seed of the sampled replies (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--samples", defaultValue = "1", description = "Sampled replies per prompt (needs --temperature > 0) (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--batch-size", defaultValue = "8", description = "Prompts per generation batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--limit", defaultValue = "0", description = "Use only the first N prompts of each file (0 = all).")
    int limit;

    @Option(names = "--raw", description = "Prompts as raw text, without the chat template (base models).")
    boolean raw;

    @Option(names = "--name", description = "Report base name (default: the circuit name).")
    String name;

    @Option(names = "--out", defaultValue = ".", description = "Report directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Mixin
    ModelOptions modelOptions;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One point of the sweep: a method and its strength; unsteered = cna m = 1 or caa alpha = 0. */
    private record Point(String method, double strength, boolean unsteered) {}

    @Override
    public Integer call() throws IOException {
        if (batchSize < 1 || maxTokens < 1) {
            throw new IllegalArgumentException("--batch-size and --max-tokens must be >= 1");
        }
        if (samples < 1 || (samples > 1 && temperature == 0)) {
            throw new IllegalArgumentException("--samples must be >= 1, and above 1 only with --temperature > 0");
        }
        if (caa != null && caa.size() != 2) {
            throw new IllegalArgumentException("--caa takes two files: POSFILE,NEGFILE");
        }
        Circuit circuit = CircuitJson.read(Files.readString(circuitFile));
        BehaviorDetector detector = BehaviorDetector.forBehavior(behavior != null ? behavior : detectorName(circuit.name()));
        List<String> pos = limited(PromptSets.read(prompts));
        List<String> neg = negative == null ? List.of() : limited(PromptSets.read(negative));
        List<String> neu = neutral == null ? List.of() : limited(PromptSets.read(neutral));
        String base = name != null ? name : circuit.name();

        List<Point> points = new ArrayList<>();
        for (double m : multipliers) {
            points.add(new Point(EvalRow.CNA, m, m == 1.0));
        }
        if (caa != null) {
            List<Double> alphas = new ArrayList<>();
            multipliers.forEach(m -> alphas.add(m - 1));
            alphas.addAll(caaAlphas);
            alphas.stream().distinct().sorted().forEach(a -> points.add(new Point(EvalRow.CAA, a, a == 0.0)));
        }

        long start = System.nanoTime();
        List<EvalRow> rows = new ArrayList<>();
        try (LoadedModel m = modelOptions.load();
             BufferedWriter sampleFile = Files.newBufferedWriter(prepare(out).resolve(base + ".samples.jsonl"),
                     StandardCharsets.UTF_8)) {
            int neurons = m.config().neurons();
            System.err.printf(Locale.ROOT, "eval: circuit %s, %d neurons (%.2f%% of %d), detector %s; %d positive, "
                            + "%d negative, %d neutral prompts, %s, max %d tokens, batch %d%n",
                    circuit.name(), circuit.neurons().size(), 100.0 * circuit.neurons().size() / neurons, neurons,
                    detector.name(), pos.size(), neg.size(), neu.size(), decoding(), maxTokens, batchSize);
            SteeringPlan.compile(List.of(new CircuitStrength(circuit, 1f)), m.config(), m.fingerprint()); // fail early
            ActivationCollector collector = new ActivationCollector(m.transformer(), m.tokenizer(), batchSize);
            List<int[]> posTokens = pos.stream().map(p -> collector.promptTokens(p, !raw)).toList();
            List<int[]> negTokens = neg.stream().map(p -> collector.promptTokens(p, !raw)).toList();
            List<int[]> neuTokens = neu.stream().map(p -> m.tokenizer().encodePrompt(p)).toList();

            float[][] direction = null;
            if (caa != null) {
                boolean[] all = new boolean[m.config().layers()];
                Arrays.fill(all, true);
                List<String> caaPos = PromptSets.read(caa.get(0));
                List<String> caaNeg = PromptSets.read(caa.get(1));
                System.err.printf("eval: CAA direction from %d + %d prompts%n", caaPos.size(), caaNeg.size());
                direction = CaaPlan.meanDifference(collector.mlpOutputs(caaPos, !raw, all),
                        collector.mlpOutputs(caaNeg, !raw, all));
            }

            float[][] baseNeutral = neuTokens.isEmpty() ? null : lastLogits(m, neuTokens, n -> null);
            List<String> basePos = null;
            List<String> baseNeg = null;
            System.out.printf("%-4s %8s  %14s  %14s  %8s  %10s%n", "method", "strength", "rate(positive)",
                    "rate(negative)", "quality", "KL(nats)");
            for (Point p : points) {
                long t0 = System.nanoTime();
                IntFunction<MlpHook> hooks = hookFactory(m, circuit, direction, p);
                List<String> posReplies;
                List<String> negReplies;
                if (p.unsteered() && basePos != null) {
                    posReplies = basePos;
                    negReplies = baseNeg;
                } else {
                    String label = p.method() + " " + fmt(p.strength());
                    posReplies = generate(m, posTokens, hooks, label + " positive");
                    negReplies = generate(m, negTokens, hooks, label + " negative");
                    if (p.unsteered()) {
                        basePos = posReplies;
                        baseNeg = negReplies;
                    }
                }
                double kl = Double.NaN;
                if (baseNeutral != null) {
                    kl = p.unsteered() ? 0.0 : meanKl(baseNeutral, lastLogits(m, neuTokens, hooks));
                }
                List<String> all = new ArrayList<>(posReplies);
                all.addAll(negReplies);
                double posRate = detector.rate(posReplies);
                double negRate = negReplies.isEmpty() ? Double.NaN : detector.rate(negReplies);
                // quality over every reply of the strength: steering should not degrade either side
                EvalRow row = new EvalRow(p.method(), p.strength(), posRate, negRate, Quality.mean(all), kl);
                rows.add(row);
                writeSamples(sampleFile, p, "positive", pos, posReplies, detector);
                writeSamples(sampleFile, p, "negative", neg, negReplies, detector);
                System.out.printf(Locale.ROOT, "%-6s %8s  %14s  %14s  %8.3f  %10s%n", p.method(), fmt(p.strength()),
                        pct(posRate), pct(negRate), row.meanQuality(),
                        Double.isNaN(kl) ? "n/a" : String.format(Locale.ROOT, "%.4f", kl));
                System.out.flush();
                System.err.printf(Locale.ROOT, "eval: %s %s done in %.1f s%n", p.method(), fmt(p.strength()),
                        (System.nanoTime() - t0) / 1e9);
            }

            EvalReport report = new EvalReport(detector.name(), rows)
                    .title("Steering sweep: " + base)
                    .model(m.id() + " (" + m.path().getFileName() + ")")
                    .promptCounts(pos.size(), neg.size(), neu.size())
                    .note(String.format(Locale.ROOT, "circuit %s: %d neurons = %.3f%% of the model's %d (%s), from %s",
                            circuit.name(), circuit.neurons().size(), 100.0 * circuit.neurons().size() / neurons,
                            neurons, circuit.method(), circuitFile.getFileName()))
                    .note("held-out prompts: " + prompts.getFileName()
                            + (negative == null ? "" : ", " + negative.getFileName())
                            + (raw ? " (raw text)" : " (chat template, one user turn)")
                            + "; " + decoding() + ", " + maxTokens + " new tokens")
                    .note("quality is the mean over all replies of a strength (positive and negative prompts)"
                            + (samples > 1 ? "; rates and quality count every sampled reply" : ""));
            if (neutral != null) {
                report.note("KL: mean KL(unsteered || steered) of the next token at the last position of each of "
                        + neu.size() + " prompts of " + neutral.getFileName() + ", fed as raw text (no chat template)");
            }
            if (caa != null) {
                report.note("CAA: alpha times (mean MLP output over " + caa.get(0).getFileName() + " - over "
                        + caa.get(1).getFileName() + ", last token) added to every layer's MLP output at every "
                        + "position; matching strength alpha = m - 1 (m = 0 -> alpha = -1, m = 2 -> alpha = +1)");
            }
            EvalReport.Written files = report.write(out, base);
            System.err.printf(Locale.ROOT, "eval: %d points in %.1f s; wrote %s, %s, %s and %s%n", rows.size(),
                    (System.nanoTime() - start) / 1e9, files.markdown(), files.png(), files.json(),
                    out.resolve(base + ".samples.jsonl"));
        }
        return 0;
    }

    private static Path prepare(Path dir) throws IOException {
        Files.createDirectories(dir);
        return dir;
    }

    private List<String> limited(List<String> list) {
        return limit > 0 && list.size() > limit ? list.subList(0, limit) : list;
    }

    /** The detector named by the circuit: its name, or the first word of it ("french-top50" -> "french"). */
    private static String detectorName(String circuitName) {
        String key = circuitName.toLowerCase(Locale.ROOT);
        for (String known : List.of("refusal", "french")) {
            if (key.equals(known) || key.startsWith(known + "-") || key.startsWith(known + "_")
                    || key.startsWith(known + ".")) {
                return known;
            }
        }
        throw new IllegalArgumentException("circuit '" + circuitName + "' names no known behavior; give --behavior");
    }

    /** For a batch of n rows, the hook of the point (every row carries the same plan); null = unsteered. */
    private static IntFunction<MlpHook> hookFactory(LoadedModel m, Circuit circuit, float[][] direction, Point p) {
        if (p.unsteered()) {
            return n -> null;
        }
        if (p.method().equals(EvalRow.CAA)) {
            return n -> new CaaPlan(direction, (float) p.strength());
        }
        SteeringPlan plan = SteeringPlan.compile(List.of(new CircuitStrength(circuit, (float) p.strength())),
                m.config(), m.fingerprint());
        return n -> SteeringPlan.hook(Collections.nCopies(n, plan), m.config());
    }

    private String decoding() {
        if (temperature == 0) {
            return "greedy decoding";
        }
        return String.format(Locale.ROOT, "sampled at temperature %s, top-k %d, top-p %s, %d replies per prompt "
                + "(seeds from %d)", fmt(temperature), topK, fmt(topP), samples, seed);
    }

    /**
     * The replies to the prompts, {@code samples} per prompt (prompt-major: prompt i's sample j at
     * {@code i * samples + j}), generated in batches of similar length. Reply (i, j) is sampled with seed
     * {@code seed + i * samples + j} whatever the batch it lands in.
     */
    private List<String> generate(LoadedModel m, List<int[]> tokens, IntFunction<MlpHook> hooks, String label) {
        int n = tokens.size() * samples;
        String[] replies = new String[n];
        List<Integer> order = IntStream.range(0, n).boxed()
                .sorted(Comparator.comparingInt(r -> tokens.get(r / samples).length)).toList();
        Generator generator = new Generator(m.transformer(), m.tokenizer());
        for (int s = 0; s < order.size(); s += batchSize) {
            List<Integer> batch = order.subList(s, Math.min(order.size(), s + batchSize));
            List<int[]> batchTokens = batch.stream().map(r -> tokens.get(r / samples)).toList();
            List<SamplingParams> params = batch.stream()
                    .map(r -> new SamplingParams(temperature, topK, topP, seed + r, maxTokens, List.of())).toList();
            MlpHook hook = hooks.apply(batch.size());
            try {
                List<Generation> gens = generator.generate(batchTokens, params, hook, null);
                for (int r = 0; r < batch.size(); r++) {
                    replies[batch.get(r)] = gens.get(r).text();
                }
            } finally {
                close(hook);
            }
            System.err.printf("\reval: %s %d/%d", label, s + batch.size(), order.size());
        }
        if (!order.isEmpty()) {
            System.err.println();
        }
        return List.of(replies);
    }

    /** Next-token logits at the last position of each prompt, [prompt][vocab]. */
    private float[][] lastLogits(LoadedModel m, List<int[]> tokens, IntFunction<MlpHook> hooks) {
        float[][] logits = new float[tokens.size()][];
        for (int s = 0; s < tokens.size(); s += batchSize) {
            List<int[]> batch = tokens.subList(s, Math.min(tokens.size(), s + batchSize));
            MlpHook hook = hooks.apply(batch.size());
            try (KvCache cache = m.transformer().newCache(batch.size())) {
                float[][] l = m.transformer().prefill(cache, batch, hook);
                System.arraycopy(l, 0, logits, s, batch.size());
            } finally {
                close(hook);
            }
        }
        return logits;
    }

    private static double meanKl(float[][] unsteered, float[][] steered) {
        double sum = 0;
        for (int i = 0; i < unsteered.length; i++) {
            sum += Divergence.klNextToken(unsteered[i], steered[i]);
        }
        return sum / unsteered.length;
    }

    private static void close(MlpHook hook) {
        if (hook instanceof NeuronScaling ns) {
            ns.close();
        } else if (hook instanceof CaaPlan c) {
            c.close();
        }
    }

    /** One JSON line per reply; replies are prompt-major, {@code samples} per prompt (see {@link #generate}). */
    private void writeSamples(BufferedWriter w, Point p, String side, List<String> prompts, List<String> replies,
                              BehaviorDetector detector) throws IOException {
        for (int i = 0; i < replies.size(); i++) {
            ObjectNode o = JSON.createObjectNode();
            o.put("method", p.method());
            o.put("strength", p.strength());
            o.put("side", side);
            o.put("prompt", prompts.get(i / samples));
            if (samples > 1) {
                o.put("sample", i % samples);
            }
            o.put("reply", replies.get(i));
            o.put("shows", detector.shows(replies.get(i)));
            o.put("quality", Quality.of(replies.get(i)));
            w.write(JSON.writeValueAsString(o));
            w.newLine();
        }
        w.flush();
    }

    private static String fmt(double v) {
        return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }
}
