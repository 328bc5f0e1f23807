package dev.cna.core.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.CircuitJson;
import dev.cna.core.eval.BehaviorDetector;
import dev.cna.core.eval.CapabilityScorer;
import dev.cna.core.eval.EvalReport;
import dev.cna.core.eval.EvalRow;
import dev.cna.core.eval.MultipleChoice;
import dev.cna.core.eval.PromptSets;
import dev.cna.core.eval.Sweep;
import dev.cna.core.runtime.LoadedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code cna eval}: parses the options, runs the steering sweep of {@link Sweep} (docs/method.md, evaluation) and
 * writes its report: a table on stdout, one JSON line per reply, and Markdown + PNG + JSON through
 * {@link EvalReport}.
 *
 * <p>CAA strength mapping: for multiplier m, {@code alpha = m - 1}. m = 1 (unsteered) is alpha = 0; m = 0
 * (ablation, suppression) is alpha = -1, i.e. the whole mean difference of the MLP outputs is subtracted
 * in every layer, which moves a positive prompt's last-token MLP outputs to the negative prompts' mean;
 * m = 2 (amplification) is alpha = +1. {@code --caa-alphas} adds further alphas.
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

    @Option(names = "--capability", description = "Multiple-choice questions (JSONL, datasets/capability/questions.jsonl): "
            + "accuracy by the logits of the answer letters at every strength.")
    Path capability;

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

    @Mixin
    SamplingOptions sampling;

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

    private static final SamplingOptions.Defaults GREEDY = new SamplingOptions.Defaults(0, 0, 1, 0);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws IOException {
        if (caa != null && caa.size() != 2) {
            throw new IllegalArgumentException("--caa takes two files: POSFILE,NEGFILE");
        }
        if (samples > 1 && sampling.temperature(GREEDY) == 0) {
            throw new IllegalArgumentException("--samples above 1 needs --temperature > 0 (greedy replies would repeat)");
        }
        Sweep.Settings settings = new Sweep.Settings(multipliers, caaAlphas, maxTokens, sampling.temperature(GREEDY),
                sampling.topK(GREEDY), sampling.topP(GREEDY), sampling.seed(GREEDY), samples, batchSize, !raw);
        Circuit circuit = CircuitJson.read(Files.readString(circuitFile));
        BehaviorDetector detector = BehaviorDetector.forBehavior(behavior != null ? behavior : detectorName(circuit.name()));
        Sweep.Prompts set = new Sweep.Prompts(limited(PromptSets.read(prompts)),
                negative == null ? List.of() : limited(PromptSets.read(negative)),
                neutral == null ? List.of() : limited(PromptSets.read(neutral)),
                capability == null ? List.of() : MultipleChoice.read(capability).stream()
                        .map(q -> new CapabilityScorer.Question(q.prompt(), q.choices().size(), q.answerIndex())).toList());
        String base = name != null ? name : circuit.name();

        long start = System.nanoTime();
        Files.createDirectories(out);
        List<EvalRow> rows;
        try (LoadedModel m = modelOptions.load();
             BufferedWriter sampleFile = Files.newBufferedWriter(out.resolve(base + ".samples.jsonl"), StandardCharsets.UTF_8)) {
            int neurons = m.config().neurons();
            System.err.printf(Locale.ROOT, "eval: circuit %s, %d neurons (%.2f%% of %d), detector %s; %d positive, "
                            + "%d negative, %d neutral prompts, %s, max %d tokens, batch %d%n",
                    circuit.name(), circuit.neurons().size(), 100.0 * circuit.neurons().size() / neurons, neurons,
                    detector.name(), set.positive().size(), set.negative().size(), set.neutral().size(), decoding(settings),
                    maxTokens, batchSize);
            float[][] direction = null;
            if (caa != null) {
                List<String> caaPos = PromptSets.read(caa.get(0));
                List<String> caaNeg = PromptSets.read(caa.get(1));
                System.err.printf("eval: CAA direction from %d + %d prompts%n", caaPos.size(), caaNeg.size());
                direction = Sweep.caaDirection(m, caaPos, caaNeg, settings);
            }
            System.out.printf("%-4s %8s  %14s  %14s  %8s  %10s  %10s%n", "method", "strength", "rate(positive)",
                    "rate(negative)", "quality", "KL(nats)", "capability");
            rows = new Sweep(m, circuit, direction, detector, settings).run(set, new Sweep.Listener() {
                private long t0 = System.nanoTime();

                @Override
                public void point(EvalRow row, List<Sweep.Reply> replies) {
                    writeSamples(sampleFile, replies);
                    System.out.printf(Locale.ROOT, "%-6s %8s  %14s  %14s  %8.3f  %10s  %10s%n", row.method(), fmt(row.strength()),
                            pct(row.positiveRate()), pct(row.negativeRate()), row.meanQuality(),
                            Double.isNaN(row.meanKl()) ? "n/a" : String.format(Locale.ROOT, "%.4f", row.meanKl()),
                            pct(row.capability()));
                    System.out.flush();
                    System.err.printf(Locale.ROOT, "%neval: %s %s done in %.1f s%n", row.method(), fmt(row.strength()),
                            (System.nanoTime() - t0) / 1e9);
                    t0 = System.nanoTime();
                }

                @Override
                public void progress(String label, int done, int total) {
                    System.err.printf("\reval: %s %d/%d", label, done, total);
                }
            });

            EvalReport report = new EvalReport(detector.name(), rows)
                    .title("Steering sweep: " + base)
                    .model(m.id() + " (" + m.path().getFileName() + ")")
                    .promptCounts(set.positive().size(), set.negative().size(), set.neutral().size())
                    .note(String.format(Locale.ROOT, "circuit %s: %d neurons = %.3f%% of the model's %d (%s), from %s",
                            circuit.name(), circuit.neurons().size(), 100.0 * circuit.neurons().size() / neurons,
                            neurons, circuit.method(), circuitFile.getFileName()))
                    .note("held-out prompts: " + prompts.getFileName()
                            + (negative == null ? "" : ", " + negative.getFileName())
                            + (raw ? " (raw text)" : " (chat template, one user turn)")
                            + "; " + decoding(settings) + ", " + maxTokens + " new tokens")
                    .note("quality is the mean over all replies of a strength (positive and negative prompts)"
                            + (samples > 1 ? "; rates and quality count every sampled reply" : ""));
            if (capability != null) {
                report.note("capability: share of " + set.capability().size() + " multiple-choice questions of "
                        + capability.getFileName() + " answered right, the answer being the letter with the highest "
                        + "logit after the question (formatted like the held-out prompts), no generation");
            }
            if (neutral != null) {
                report.note("KL: mean KL(unsteered || steered) of the next token at the last position of each of "
                        + set.neutral().size() + " prompts of " + neutral.getFileName() + ", fed as raw text (no chat template)");
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

    private static String decoding(Sweep.Settings s) {
        if (s.temperature() == 0) {
            return "greedy decoding";
        }
        return String.format(Locale.ROOT, "sampled at temperature %s, top-k %d, top-p %s, %d replies per prompt "
                + "(seeds from %d)", fmt(s.temperature()), s.topK(), fmt(s.topP()), s.samples(), s.seed());
    }

    /** One JSON line per reply, prompt-major. */
    private void writeSamples(BufferedWriter w, List<Sweep.Reply> replies) {
        try {
            for (Sweep.Reply r : replies) {
                ObjectNode o = JSON.createObjectNode();
                o.put("method", r.point().method());
                o.put("strength", r.point().strength());
                o.put("side", r.side());
                o.put("prompt", r.prompt());
                if (samples > 1) {
                    o.put("sample", r.sample());
                }
                o.put("reply", r.text());
                o.put("shows", r.shows());
                o.put("quality", r.quality());
                w.write(JSON.writeValueAsString(o));
                w.newLine();
            }
            w.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String fmt(double v) {
        return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }
}
