package dev.cna.core.runtime.cpu;

import dev.cna.core.attribution.ActivationCollector;
import dev.cna.core.attribution.ContrastiveAccumulator;
import dev.cna.core.attribution.ContrastiveAttribution;
import dev.cna.core.attribution.SelectionOptions;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.CircuitNeuron;
import dev.cna.core.eval.PromptSets;
import dev.cna.core.generate.Sampler;
import dev.cna.core.eval.PromptSetsTest;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelFingerprint;
import dev.cna.core.model.ModelStore;
import dev.cna.core.model.gguf.GgufWeights;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.BackendOptions;
import dev.cna.core.runtime.NeuronScaling;
import dev.cna.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cpu backend (Q4_1 blocks of the default model, Vector API) against the torch reference (the same weights
 * dequantized to f32, PyTorch) on the real default model: teacher-forced next-token agreement, the contrastive
 * circuit of the same prompts, and an ablation.
 */
class DefaultModelAgreementTest {
    private static final int SEQUENCE = 128;
    private static final int SEQUENCES = 5;

    private static GgufWeights weights;
    private static Backend cpu;
    private static Backend torch;
    private static Tokenizer tokenizer;
    private static List<int[]> sequences;

    @BeforeAll
    static void load() {
        weights = GgufWeights.open(ModelStore.defaultModel());
        cpu = BackendOptions.cpu().load(weights);
        torch = BackendOptions.torch().load(weights);
        tokenizer = Tokenizer.create(weights.tokenizerSpec());
        // Text the model reads: the held-out prompts of both behaviors, one per line, cut into sequences.
        List<String> lines = new ArrayList<>();
        for (String behavior : List.of("french", "refusal")) {
            PromptSets.Contrast c = PromptSets.contrast(PromptSetsTest.datasets(), behavior, "heldout");
            lines.addAll(c.positive());
            lines.addAll(c.negative());
        }
        int[] all = tokenizer.encode(String.join("\n", lines));
        sequences = new ArrayList<>();
        for (int i = 0; i < SEQUENCES; i++) {
            sequences.add(Arrays.copyOfRange(all, i * SEQUENCE, (i + 1) * SEQUENCE));
        }
    }

    @AfterAll
    static void close() {
        tokenizer.close();
        cpu.close();
        torch.close();
        weights.close();
    }

    @Test
    void teacherForcedNextTokensAgreeWithTheReference() {
        Agreement a = agreement(null);
        System.out.printf("cpu vs torch, default model, teacher-forced: top-1 %d/%d (%.2f%%), mean |logit diff| %.2e, max %.2e%n",
                a.same, a.positions, 100.0 * a.same / a.positions, a.meanDiff, a.maxDiff);
        assertTrue(a.positions >= 500, "positions " + a.positions);
        assertTrue(a.same >= 0.995 * a.positions, "top-1 agreement " + a.same + "/" + a.positions);
        assertTrue(a.meanDiff < 1e-3, "mean |logit diff| " + a.meanDiff);
    }

    @Test
    void ablatingNeuronsMatchesTheReferenceAblation() {
        ModelConfig c = cpu.config();
        List<NeuronScaling.Scale> ablate = new ArrayList<>();
        for (int l = 2; l < c.layers(); l += 3) {
            ablate.add(new NeuronScaling.Scale(l, (l * 97) % c.intermediateSize(), 0f));
        }
        try (NeuronScaling hook = new NeuronScaling(c.layers(), c.intermediateSize(), List.of(ablate))) {
            Agreement steered = agreement(hook);
            float[][] plain = torch.logitsAtEveryPosition(sequences.get(0), null);
            float[][] ablated = torch.logitsAtEveryPosition(sequences.get(0), hook);
            double effect = meanAbsDiff(plain, ablated);
            System.out.printf("ablation of %d neurons: cpu vs torch top-1 %d/%d, mean |logit diff| %.2e; the ablation moves logits by %.2e%n",
                    ablate.size(), steered.same, steered.positions, steered.meanDiff, effect);
            assertTrue(steered.same >= 0.995 * steered.positions, "top-1 agreement " + steered.same + "/" + steered.positions);
            assertTrue(steered.meanDiff < 1e-3, "mean |logit diff| " + steered.meanDiff);
            assertTrue(effect > 100 * steered.meanDiff, "the ablation must matter more than the backends differ: " + effect);
        }
    }

    @Test
    void contrastiveCircuitsOfTheSamePromptsAreTheSame() throws IOException {
        PromptSets.Contrast french = PromptSets.contrast(PromptSetsTest.datasets(), "french", "discovery");
        SelectionOptions options = new SelectionOptions(SelectionOptions.DEFAULT_TOP_K, SelectionOptions.DEFAULT_EXCLUDE_LAYERS, false);
        String fingerprint = ModelFingerprint.of(ModelStore.defaultModel());
        Set<String> fromCpu = neurons(circuit(cpu, french, options, fingerprint));
        Set<String> fromTorch = neurons(circuit(torch, french, options, fingerprint));
        Set<String> both = new HashSet<>(fromCpu);
        both.retainAll(fromTorch);
        Set<String> either = new HashSet<>(fromCpu);
        either.addAll(fromTorch);
        double jaccard = (double) both.size() / either.size();
        System.out.printf("top-%d circuits, cpu vs torch: Jaccard %.3f (%d shared)%n", options.topK(), jaccard, both.size());
        assertTrue(fromCpu.size() == options.topK() && fromTorch.size() == options.topK());
        assertTrue(jaccard >= 0.95, "Jaccard " + jaccard);
    }

    private static Circuit circuit(Backend backend, PromptSets.Contrast contrast, SelectionOptions options, String fingerprint) {
        ContrastiveAttribution attribution = new ContrastiveAttribution(new ActivationCollector(backend, tokenizer, 8),
                backend.config(), weights.modelId(), fingerprint);
        ContrastiveAccumulator sums = attribution.newAccumulator(options);
        attribution.accumulate(sums, contrast.positive(), contrast.negative(), true, null);
        return attribution.circuit("french", 1, sums, options, null);
    }

    private static Set<String> neurons(Circuit c) {
        Set<String> out = new HashSet<>();
        for (CircuitNeuron n : c.neurons()) {
            out.add(n.layer() + ":" + n.index());
        }
        return out;
    }

    private record Agreement(int same, int positions, double meanDiff, double maxDiff) {}

    private static Agreement agreement(NeuronScaling hook) {
        int same = 0;
        int positions = 0;
        double sum = 0;
        double max = 0;
        long count = 0;
        for (int[] tokens : sequences) {
            float[][] expected = torch.logitsAtEveryPosition(tokens, hook);
            float[][] actual = cpu.logitsAtEveryPosition(tokens, hook);
            for (int t = 0; t < tokens.length; t++) {
                same += Sampler.argMax(expected[t]) == Sampler.argMax(actual[t]) ? 1 : 0;
                positions++;
                for (int v = 0; v < expected[t].length; v++) {
                    double d = Math.abs(expected[t][v] - actual[t][v]);
                    sum += d;
                    max = Math.max(max, d);
                    count++;
                }
            }
        }
        return new Agreement(same, positions, sum / count, max);
    }

    private static double meanAbsDiff(float[][] a, float[][] b) {
        double sum = 0;
        long n = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                sum += Math.abs(a[i][j] - b[i][j]);
                n++;
            }
        }
        return sum / n;
    }
}
