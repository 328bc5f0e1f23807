package dev.cna.core.attribution;

import dev.cna.core.runtime.torch.TorchBackend;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.CircuitNeuron;
import dev.cna.core.circuit.Neuron;
import dev.cna.core.model.HostTensor;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ReplacedWeights;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.model.TensorNames;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.torch.WeightStorage;
import dev.cna.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Contrastive discovery through the real engine recovers neurons planted in a synthetic model.
 *
 * <p>The plant: the embedding of token 'X' carries a large value {@link #TRIGGER} in hidden dimension
 * {@link #D_TRIGGER} that no other token has, and every token carries {@link #ALWAYS} in dimension
 * {@link #D_ALWAYS}. Nothing else writes to those two dimensions (their rows of every attention output and
 * down projection are zero), so at a prompt's last position they hold exactly the last token's values. A planted
 * neuron's gate and up rows read only one of the dimensions: the trigger neurons are exactly 0 unless the last
 * token is 'X', and then about {@code 64 * up weight}; the always-on neuron fires on every input (and, since the
 * trigger dominates the RMSNorm when 'X' is last, is almost silent on positive prompts).
 */
class PlantedCircuitTest {
    private static final int LAYERS = 4;
    private static final int D_TRIGGER = 0;
    private static final int D_ALWAYS = 1;
    private static final float TRIGGER = 1000f;
    private static final float ALWAYS = 8f;
    private static final String FINGERPRINT = "ab".repeat(32);

    /** Planted trigger neurons in layers 2 and 3, in the order their |delta| must rank them, with their up weights. */
    private static final List<Neuron> PLANTED = List.of(new Neuron(2, 10), new Neuron(3, 40), new Neuron(2, 77), new Neuron(3, 5));
    private static final float[] PLANTED_UP = {1.0f, 0.8f, -0.7f, 0.5f};
    /** A trigger neuron in excluded layer 1, stronger than all: must never appear. */
    private static final Neuron DECOY = new Neuron(1, 20);
    private static final float DECOY_UP = 2.0f;
    /** The always-on neuron. */
    private static final Neuron UNIVERSAL = new Neuron(3, 60);

    private static final List<String> POSITIVE = List.of("the cat sat on the matX", "hello worldX", "aX", "once upon a time X",
            "1234X", "the quick brown fox jumps over the lazy dogX", "hmm X", "in the beginningX");
    private static final List<String> NEGATIVE = List.of("the cat sat on the matY", "hello worldY", "aY", "once upon a time Y",
            "1234Y", "the quick brown fox jumps over the lazy dogY", "hmm Y", "in the beginningY");

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gguf", "hf"})
    void contrastiveAttributionRecoversThePlantedNeuronsInOrder(String format) {
        SyntheticModels.Model m = spec().write(dir);
        try (WeightSource original = ModelLoader.open(format.equals("gguf") ? m.gguf() : m.hfDir());
             Tokenizer tokenizer = Tokenizer.create(original.tokenizerSpec());
             WeightSource planted = plant(original, tokenizer);
             Backend model = TorchBackend.load(planted, WeightStorage.F32)) {
            ModelConfig config = planted.config();
            ActivationCollector collector = new ActivationCollector(model, tokenizer, 4);
            int x = singleToken(tokenizer, "X");
            int y = singleToken(tokenizer, "Y");
            POSITIVE.forEach(p -> assertEquals(x, last(collector.promptTokens(p, false)), p));
            NEGATIVE.forEach(p -> assertEquals(y, last(collector.promptTokens(p, false)), p));

            ContrastiveAttribution attribution = new ContrastiveAttribution(collector, config, "planted", FINGERPRINT);
            SelectionOptions noBlacklist = new SelectionOptions(PLANTED.size() + 1, SelectionOptions.DEFAULT_EXCLUDE_LAYERS, false);
            ContrastiveAccumulator sums = attribution.newAccumulator(noBlacklist);
            attribution.accumulate(sums, POSITIVE, NEGATIVE, false, null);

            // Without the blacklist: the planted neurons and the always-on one (negative delta), nothing else.
            Circuit withUniversal = attribution.circuit("planted", 1, sums, noBlacklist, null);
            assertEquals(Set.of(PLANTED.get(0), PLANTED.get(1), PLANTED.get(2), PLANTED.get(3), UNIVERSAL),
                    withUniversal.neurons().stream().map(CircuitNeuron::neuron).collect(Collectors.toSet()), describe(withUniversal));
            assertTrue(delta(withUniversal, UNIVERSAL) < -10, "the always-on neuron is quieter when 'X' dominates the norm");
            assertEquals(PLANTED, withUniversal.neurons().stream().map(CircuitNeuron::neuron).filter(PLANTED::contains).toList());
            assertEquals(8, withUniversal.stats().positiveCount());
            assertEquals(8, withUniversal.stats().negativeCount());
            assertEquals(List.of(0, 1), withUniversal.stats().excludedLayers());

            // The always-on neuron is universal by the detector's rule, from the engine's own activations.
            boolean[] all = new boolean[config.layers()];
            Arrays.fill(all, true);
            Set<Neuron> blacklist = UniversalNeuronDetector.detect(collector.neurons(UniversalNeuronDetector.NEUTRAL_PROMPTS, false, all));
            assertTrue(blacklist.contains(UNIVERSAL), "blacklist " + blacklist);
            PLANTED.forEach(n -> assertFalse(blacklist.contains(n), n + " fires only on 'X', it is not universal"));

            // With the blacklist: exactly the planted neurons, by planted magnitude, signs kept.
            SelectionOptions withBlacklist = new SelectionOptions(PLANTED.size(), SelectionOptions.DEFAULT_EXCLUDE_LAYERS, true);
            CircuitSelector.Selection selection = CircuitSelector.select(sums.delta(), withBlacklist, blacklist);
            assertEquals(PLANTED, selection.neurons().stream().map(CircuitNeuron::neuron).toList(), selection.neurons().toString());
            assertEquals(1, selection.blacklistedCount(), "the universal neuron was in the unfiltered top-k and was replaced");
            for (int k = 0; k < PLANTED.size(); k++) {
                double d = selection.neurons().get(k).delta();
                assertEquals(Math.signum(PLANTED_UP[k]), Math.signum(d), PLANTED.get(k) + " delta " + d);
                // silu(8) * 8 * 8 * up: the planted magnitude, up to the small share of other dimensions in the norm
                assertEquals(64 * PLANTED_UP[k], d, 0.05 * 64 * Math.abs(PLANTED_UP[k]), PLANTED.get(k).toString());
            }
            assertFalse(selection.neurons().stream().anyMatch(n -> n.layer() == DECOY.layer()), "layer 1 is excluded");

            // Including layer 1, the decoy (the strongest plant) leads.
            SelectionOptions allLayers = new SelectionOptions(1, Set.of(0), false);
            ContrastiveAccumulator withLayer1 = attribution.newAccumulator(allLayers);
            attribution.accumulate(withLayer1, POSITIVE, NEGATIVE, false, null);
            assertEquals(DECOY, CircuitSelector.select(withLayer1.delta(), allLayers, Set.of()).neurons().get(0).neuron());
        }
    }

    @Test
    void theUnplantedModelDoesNotYieldThePlantedNeurons() {
        SyntheticModels.Model m = spec().write(dir);
        try (WeightSource source = ModelLoader.open(m.hfDir());
             Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec());
             Backend model = TorchBackend.load(source, WeightStorage.F32)) {
            ContrastiveAttribution attribution = new ContrastiveAttribution(new ActivationCollector(model, tokenizer, 4),
                    source.config(), "plain", FINGERPRINT);
            SelectionOptions options = new SelectionOptions(PLANTED.size(), SelectionOptions.DEFAULT_EXCLUDE_LAYERS, false);
            ContrastiveAccumulator sums = attribution.newAccumulator(options);
            attribution.accumulate(sums, POSITIVE, NEGATIVE, false, null);
            List<Neuron> found = attribution.circuit("plain", 1, sums, options, null).neurons().stream().map(CircuitNeuron::neuron).toList();
            assertNotEquals(PLANTED, found, "the recovery above must come from the plant, not from chance");
            assertTrue(Math.abs(attribution.circuit("plain", 1, sums, options, null).neurons().get(0).delta()) < 64 * 0.5f * 0.5,
                    "an unplanted model has no contrast as large as the smallest plant");
        }
    }

    @Test
    void theDetectorFindsTheAlwaysOnNeuronInEveryPromptsTopTwenty() {
        SyntheticModels.Model m = spec().write(dir);
        try (WeightSource original = ModelLoader.open(m.gguf());
             Tokenizer tokenizer = Tokenizer.create(original.tokenizerSpec());
             WeightSource planted = plant(original, tokenizer);
             Backend model = TorchBackend.load(planted, WeightStorage.F32)) {
            boolean[] all = new boolean[LAYERS];
            Arrays.fill(all, true);
            float[][][] acts = new ActivationCollector(model, tokenizer, 4).neurons(UniversalNeuronDetector.NEUTRAL_PROMPTS, false, all);
            for (float[][] prompt : acts) {
                float[] layer = prompt[UNIVERSAL.layer()];
                float top = 0;
                for (int i = 0; i < layer.length; i++) {
                    if (i != UNIVERSAL.index()) {
                        top = Math.max(top, Math.abs(layer[i]));
                    }
                }
                assertTrue(layer[UNIVERSAL.index()] > top, "the always-on neuron is its layer's largest on every neutral prompt");
                for (Neuron n : PLANTED) {
                    assertEquals(0f, prompt[n.layer()][n.index()], "trigger neurons are silent without 'X'");
                }
            }
            // With the always-on dimension zeroed the neuron is silent and not universal: the plant is the cause.
            try (WeightSource silenced = plant(original, tokenizer, 0f);
                 TorchBackend silent = TorchBackend.load(silenced, WeightStorage.F32)) {
                float[][][] quiet = new ActivationCollector(silent, tokenizer, 4).neurons(UniversalNeuronDetector.NEUTRAL_PROMPTS, false, all);
                assertFalse(UniversalNeuronDetector.detect(quiet).contains(UNIVERSAL));
                for (float[][] prompt : quiet) {
                    assertEquals(0f, prompt[UNIVERSAL.layer()][UNIVERSAL.index()]);
                }
            }
        }
    }

    private static SyntheticModels.Spec spec() {
        SyntheticModels.Spec base = SyntheticModels.Spec.llama();
        return new SyntheticModels.Spec(base.architecture(), base.hidden(), base.heads(), base.kvHeads(), base.headDim(),
                base.intermediate(), LAYERS, base.tiedEmbeddings(), false, base.hfDtype(), base.hfShards(), base.ggufTypes(), 4242);
    }

    private static WeightSource plant(WeightSource source, Tokenizer tokenizer) {
        return plant(source, tokenizer, ALWAYS);
    }

    /** The source with the plant described in the class comment; {@code always} is the always-on dimension's value. */
    private static WeightSource plant(WeightSource source, Tokenizer tokenizer, float always) {
        ModelConfig c = source.config();
        int hidden = c.hiddenSize();
        int inter = c.intermediateSize();
        Map<String, HostTensor> changed = new HashMap<>();

        HostTensor embed = copy(source.tensor(TensorNames.TOKEN_EMBEDDING));
        for (int t = 0; t < c.vocabSize(); t++) {
            embed.data()[t * hidden + D_TRIGGER] = 0f;
            embed.data()[t * hidden + D_ALWAYS] = always;
        }
        embed.data()[singleToken(tokenizer, "X") * hidden + D_TRIGGER] = TRIGGER;
        changed.put(embed.name(), embed);

        for (int l = 0; l < c.layers(); l++) {
            HostTensor attnOut = copy(source.tensor(TensorNames.attnOutput(l)));
            HostTensor down = copy(source.tensor(TensorNames.ffnDown(l)));
            HostTensor norm = copy(source.tensor(TensorNames.ffnNorm(l)));
            for (int d : new int[] {D_TRIGGER, D_ALWAYS}) {
                Arrays.fill(attnOut.data(), d * attnOut.shape()[1], (d + 1) * attnOut.shape()[1], 0f);
                Arrays.fill(down.data(), d * inter, (d + 1) * inter, 0f);
                norm.data()[d] = 1f;
            }
            HostTensor gate = copy(source.tensor(TensorNames.ffnGate(l)));
            HostTensor up = copy(source.tensor(TensorNames.ffnUp(l)));
            for (int k = 0; k < PLANTED.size(); k++) {
                if (PLANTED.get(k).layer() == l) {
                    readOnly(gate, up, down, PLANTED.get(k).index(), D_TRIGGER, 1f, PLANTED_UP[k]);
                }
            }
            if (DECOY.layer() == l) {
                readOnly(gate, up, down, DECOY.index(), D_TRIGGER, 1f, DECOY_UP);
            }
            if (UNIVERSAL.layer() == l) {
                readOnly(gate, up, down, UNIVERSAL.index(), D_ALWAYS, 2f, 2f);
            }
            for (HostTensor t : List.of(attnOut, down, norm, gate, up)) {
                changed.put(t.name(), t);
            }
        }
        return ReplacedWeights.f32(source, changed);
    }

    /** Neuron i reads only dimension d (gate weight g, up weight u) and writes nothing, so the plant stays clean. */
    private static void readOnly(HostTensor gate, HostTensor up, HostTensor down, int i, int d, float g, float u) {
        int hidden = gate.shape()[1];
        int inter = gate.shape()[0];
        Arrays.fill(gate.data(), i * hidden, (i + 1) * hidden, 0f);
        Arrays.fill(up.data(), i * hidden, (i + 1) * hidden, 0f);
        gate.data()[i * hidden + d] = g;
        up.data()[i * hidden + d] = u;
        for (int j = 0; j < hidden; j++) {
            down.data()[j * inter + i] = 0f;
        }
    }

    private static HostTensor copy(HostTensor t) {
        return new HostTensor(t.name(), t.shape().clone(), t.data().clone());
    }

    private static int singleToken(Tokenizer tokenizer, String text) {
        int[] ids = tokenizer.encode(text);
        assertEquals(1, ids.length, text + " must be one token");
        return ids[0];
    }

    private static int last(int[] tokens) {
        return tokens[tokens.length - 1];
    }

    private static double delta(Circuit circuit, Neuron n) {
        return circuit.neurons().stream().filter(c -> c.neuron().equals(n)).findFirst().orElseThrow().delta();
    }

    private static String describe(Circuit c) {
        return c.neurons().toString();
    }
}
