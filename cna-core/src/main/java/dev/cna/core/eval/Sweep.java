package dev.cna.core.eval;

import dev.cna.core.attribution.ActivationCollector;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.generate.Generation;
import dev.cna.core.generate.Generator;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.runtime.KvCache;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.runtime.MlpHook;
import dev.cna.core.steer.CaaPlan;
import dev.cna.core.steer.CircuitStrength;
import dev.cna.core.steer.SteeringPlan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntFunction;
import java.util.stream.IntStream;

/**
 * The steering sweep of docs/method.md (evaluation): for each multiplier m the circuit's neurons are scaled by m
 * while the model answers held-out positive prompts (and negative ones, if given); the behavior rate, the quality
 * and the next-token KL on neutral text are measured per strength. With a CAA direction the residual-stream
 * baseline runs at matching strengths, alpha = m - 1 (m = 1 and alpha = 0 are the same unsteered run, generated
 * once), plus any extra alphas.
 *
 * <p>KL: for each neutral prompt, fed as raw text, KL(unsteered || steered) of the next-token distribution at its
 * last position, averaged. Capability: multiple-choice accuracy by the logits of the answer letters
 * ({@link CapabilityScorer}), the questions formatted like the held-out prompts, at every strength. Replies are greedy, or sampled {@code samples} times per prompt with the seed
 * {@code seed + i * samples + j} for prompt i's sample j at every strength, so strengths differ only by steering.
 */
public final class Sweep {

    /**
     * @param multipliers     circuit multipliers m (1 = unsteered)
     * @param extraCaaAlphas  CAA alphas beyond the matching m - 1 (ignored without a CAA direction)
     * @param maxTokens       tokens per reply
     * @param temperature     0 = greedy
     * @param topK            0 = all tokens
     * @param topP            nucleus mass, (0, 1]
     * @param seed            base seed of the sampled replies
     * @param samples         replies per prompt; above 1 only with temperature > 0
     * @param batchSize       prompts per generation batch
     * @param chatTemplate    format prompts as one user turn (false: raw text, for base models)
     */
    public record Settings(List<Double> multipliers, List<Double> extraCaaAlphas, int maxTokens, float temperature, int topK,
                           float topP, long seed, int samples, int batchSize, boolean chatTemplate) {
        public Settings {
            if (batchSize < 1 || maxTokens < 1) {
                throw new IllegalArgumentException("batch size and max tokens must be >= 1");
            }
            if (samples < 1 || (samples > 1 && temperature == 0)) {
                throw new IllegalArgumentException("samples must be >= 1, and above 1 only with a temperature > 0");
            }
            multipliers = List.copyOf(multipliers);
            extraCaaAlphas = List.copyOf(extraCaaAlphas);
        }

        /** Greedy replies of maxTokens tokens, with the chat template. */
        public static Settings greedy(List<Double> multipliers, int maxTokens, int batchSize) {
            return new Settings(multipliers, List.of(), maxTokens, 0, 0, 1, 0, 1, batchSize, true);
        }
    }

    /**
     * Held-out positive prompts (behavior present), negative ones (absent; may be empty), neutral raw text (may be
     * empty), multiple-choice questions for the capability check (may be empty).
     */
    public record Prompts(List<String> positive, List<String> negative, List<String> neutral,
                          List<CapabilityScorer.Question> capability) {
        public Prompts(List<String> positive, List<String> negative, List<String> neutral) {
            this(positive, negative, neutral, List.of());
        }
    }

    /** One point of the sweep: a method and its strength; unsteered = cna m = 1 or caa alpha = 0. */
    public record Point(String method, double strength, boolean unsteered) {}

    /** One reply: prompt-major, {@code samples} per prompt. */
    public record Reply(Point point, String side, String prompt, int sample, String text, boolean shows, double quality) {}

    /** Receives each point's row and replies as soon as it is measured, and generation progress. */
    public interface Listener {
        void point(EvalRow row, List<Reply> replies);

        default void progress(String label, int done, int total) {}
    }

    private final LoadedModel model;
    private final Circuit circuit;
    private final float[][] caaDirection;
    private final BehaviorDetector detector;
    private final Settings settings;

    /**
     * @param caaDirection CAA's per-layer MLP-output mean difference ({@link #caaDirection}), or null for no CAA
     * @throws IllegalArgumentException when the circuit is not of this model
     */
    public Sweep(LoadedModel model, Circuit circuit, float[][] caaDirection, BehaviorDetector detector, Settings settings) {
        SteeringPlan.compile(List.of(new CircuitStrength(circuit, 1f)), model.config(), model.fingerprint()); // fail early
        this.model = model;
        this.circuit = circuit;
        this.caaDirection = caaDirection;
        this.detector = detector;
        this.settings = settings;
    }

    /** CAA's direction: mean MLP output (last token, every layer) over the positive prompts minus over the negative. */
    public static float[][] caaDirection(LoadedModel model, List<String> positive, List<String> negative, Settings settings) {
        boolean[] all = new boolean[model.config().layers()];
        Arrays.fill(all, true);
        ActivationCollector collector = new ActivationCollector(model.backend(), model.tokenizer(), settings.batchSize());
        return CaaPlan.meanDifference(collector.mlpOutputs(positive, settings.chatTemplate(), all),
                collector.mlpOutputs(negative, settings.chatTemplate(), all));
    }

    /** The points in run order: every multiplier, then CAA's alphas ascending. */
    public List<Point> points() {
        List<Point> points = new ArrayList<>();
        for (double m : settings.multipliers()) {
            points.add(new Point(EvalRow.CNA, m, m == 1.0));
        }
        if (caaDirection != null) {
            List<Double> alphas = new ArrayList<>();
            settings.multipliers().forEach(m -> alphas.add(m - 1));
            alphas.addAll(settings.extraCaaAlphas());
            alphas.stream().distinct().sorted().forEach(a -> points.add(new Point(EvalRow.CAA, a, a == 0.0)));
        }
        return points;
    }

    /** Runs every point; returns one row per point, in {@link #points()} order. */
    public List<EvalRow> run(Prompts prompts, Listener listener) {
        ActivationCollector collector = new ActivationCollector(model.backend(), model.tokenizer(), settings.batchSize());
        List<int[]> posTokens = prompts.positive().stream().map(p -> collector.promptTokens(p, settings.chatTemplate())).toList();
        List<int[]> negTokens = prompts.negative().stream().map(p -> collector.promptTokens(p, settings.chatTemplate())).toList();
        List<int[]> neuTokens = prompts.neutral().stream().map(p -> model.tokenizer().encodePrompt(p)).toList();
        float[][] baseNeutral = neuTokens.isEmpty() ? null : lastLogits(neuTokens, n -> null);
        List<int[]> capTokens = prompts.capability().stream()
                .map(q -> collector.promptTokens(q.prompt(), settings.chatTemplate())).toList();
        CapabilityScorer scorer = capTokens.isEmpty() ? null : new CapabilityScorer(model.tokenizer());
        List<String> basePos = null;
        List<String> baseNeg = null;
        List<EvalRow> rows = new ArrayList<>();
        for (Point p : points()) {
            IntFunction<MlpHook> hooks = hookFactory(p);
            List<String> posReplies;
            List<String> negReplies;
            if (p.unsteered() && basePos != null) {
                posReplies = basePos;
                negReplies = baseNeg;
            } else {
                String label = p.method() + " " + p.strength();
                posReplies = generate(posTokens, hooks, label + " positive", listener);
                negReplies = generate(negTokens, hooks, label + " negative", listener);
                if (p.unsteered()) {
                    basePos = posReplies;
                    baseNeg = negReplies;
                }
            }
            double kl = Double.NaN;
            if (baseNeutral != null) {
                kl = p.unsteered() ? 0.0 : meanKl(baseNeutral, lastLogits(neuTokens, hooks));
            }
            double capability = scorer == null ? Double.NaN
                    : scorer.accuracy(prompts.capability(), lastLogits(capTokens, hooks));
            List<String> all = new ArrayList<>(posReplies);
            all.addAll(negReplies);
            // quality over every reply of the strength: steering should not degrade either side
            EvalRow row = new EvalRow(p.method(), p.strength(), detector.rate(posReplies),
                    negReplies.isEmpty() ? Double.NaN : detector.rate(negReplies), Quality.mean(all), kl, capability);
            rows.add(row);
            List<Reply> replies = new ArrayList<>();
            addReplies(replies, p, "positive", prompts.positive(), posReplies);
            addReplies(replies, p, "negative", prompts.negative(), negReplies);
            listener.point(row, replies);
        }
        return rows;
    }

    private void addReplies(List<Reply> out, Point p, String side, List<String> prompts, List<String> replies) {
        for (int i = 0; i < replies.size(); i++) {
            String text = replies.get(i);
            out.add(new Reply(p, side, prompts.get(i / settings.samples()), i % settings.samples(), text, detector.shows(text),
                    Quality.of(text)));
        }
    }

    /** For a batch of n rows, the hook of the point (every row carries the same plan); null = unsteered. */
    private IntFunction<MlpHook> hookFactory(Point p) {
        if (p.unsteered()) {
            return n -> null;
        }
        if (p.method().equals(EvalRow.CAA)) {
            return n -> new CaaPlan(caaDirection, (float) p.strength());
        }
        SteeringPlan plan = SteeringPlan.compile(List.of(new CircuitStrength(circuit, (float) p.strength())),
                model.config(), model.fingerprint());
        return n -> SteeringPlan.hook(Collections.nCopies(n, plan), model.config());
    }

    /**
     * The replies to the prompts, {@code samples} per prompt (prompt-major: prompt i's sample j at
     * {@code i * samples + j}), generated in batches of similar length; reply (i, j) is sampled with seed
     * {@code seed + i * samples + j} whatever batch it lands in.
     */
    private List<String> generate(List<int[]> tokens, IntFunction<MlpHook> hooks, String label, Listener listener) {
        int samples = settings.samples();
        int n = tokens.size() * samples;
        String[] replies = new String[n];
        List<Integer> order = IntStream.range(0, n).boxed()
                .sorted(Comparator.comparingInt(r -> tokens.get(r / samples).length)).toList();
        Generator generator = new Generator(model.backend(), model.tokenizer());
        for (int s = 0; s < order.size(); s += settings.batchSize()) {
            List<Integer> batch = order.subList(s, Math.min(order.size(), s + settings.batchSize()));
            List<int[]> batchTokens = batch.stream().map(r -> tokens.get(r / samples)).toList();
            List<SamplingParams> params = batch.stream().map(r -> new SamplingParams(settings.temperature(), settings.topK(),
                    settings.topP(), settings.seed() + r, settings.maxTokens(), List.of())).toList();
            List<Generation> gens = generator.generate(batchTokens, params, hooks.apply(batch.size()), null);
            for (int r = 0; r < batch.size(); r++) {
                replies[batch.get(r)] = gens.get(r).text();
            }
            listener.progress(label, s + batch.size(), order.size());
        }
        return List.of(replies);
    }

    /** Next-token logits at the last position of each prompt, [prompt][vocab]. */
    private float[][] lastLogits(List<int[]> tokens, IntFunction<MlpHook> hooks) {
        float[][] logits = new float[tokens.size()][];
        for (int s = 0; s < tokens.size(); s += settings.batchSize()) {
            List<int[]> batch = tokens.subList(s, Math.min(tokens.size(), s + settings.batchSize()));
            try (KvCache cache = model.backend().newCache(batch.size())) {
                float[][] l = model.backend().prefill(cache, batch, hooks.apply(batch.size()));
                System.arraycopy(l, 0, logits, s, batch.size());
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
}
