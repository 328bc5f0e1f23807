package dev.cna.core.runtime;

import dev.cna.core.runtime.torch.TorchBackend;
import dev.cna.core.runtime.torch.WeightStorage;
import dev.cna.core.model.HostTensor;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.ReplacedWeights;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.model.TensorNames;
import dev.cna.core.model.WeightSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import dev.cna.core.runtime.BackendOptions.Kind;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Both backends (cpu and torch) on tiny synthetic models, against a plain-Java reference and across formats. */
class BackendTest {
    private static final int[] TOKENS = {5, 77, 130, 9, 250, 41, 3, 199, 64};

    @TempDir
    Path dir;

    static Stream<SyntheticModels.Spec> specs() {
        return Stream.of(
                SyntheticModels.Spec.llama(),
                SyntheticModels.Spec.llama().withTiedEmbeddings(true),
                SyntheticModels.Spec.llama().withLlama3RopeScaling(),
                SyntheticModels.Spec.qwen2(),
                SyntheticModels.Spec.mistral());
    }

    /** Every spec on every backend. */
    static Stream<Arguments> specsAndBackends() {
        return specs().flatMap(spec -> Stream.of(Kind.values()).map(kind -> Arguments.of(spec, kind)));
    }

    static Backend load(Kind kind, WeightSource source) {
        return BackendOptions.of(kind).load(source);
    }

    @ParameterizedTest
    @MethodSource("specsAndBackends")
    void logitsMatchThePlainJavaReference(SyntheticModels.Spec spec, Kind kind) {
        SyntheticModels.Model m = spec.write(dir);
        try (WeightSource source = ModelLoader.open(m.hfDir()); Backend model = load(kind, source)) {
            float[][] expected = new ReferenceForward(source).logits(TOKENS, null);
            float[][] actual = model.logitsAtEveryPosition(TOKENS, null);
            assertClose(expected, actual, 2e-4f);
        }
    }

    @ParameterizedTest
    @MethodSource("specsAndBackends")
    void ggufAndSafetensorsGiveTheSameLogits(SyntheticModels.Spec spec, Kind kind) {
        SyntheticModels.Model m = spec.write(dir);
        try (WeightSource gguf = ModelLoader.open(m.gguf()); WeightSource hf = ModelLoader.open(m.hfDir());
             Backend fromGguf = load(kind, gguf);
             Backend fromHf = load(kind, hf)) {
            // Configs differ only in form: GGUF says "llama" for mistral and carries llama3 scaling as rope_freqs.
            assertEquals(gguf.config().neurons(), hf.config().neurons());
            assertClose(fromHf.logitsAtEveryPosition(TOKENS, null), fromGguf.logitsAtEveryPosition(TOKENS, null), 1e-5f);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aLeftPaddedBatchDecodesLikeEachSequenceAlone(Kind kind) {
        SyntheticModels.Model m = SyntheticModels.Spec.qwen2().write(dir);
        List<int[]> prompts = List.of(new int[] {7, 8, 9, 10, 11, 12}, new int[] {100}, new int[] {200, 201, 202});
        int[][] continuations = {{13, 14, 15}, {101, 102, 103}, {203, 204, 205}};
        try (WeightSource source = ModelLoader.open(m.hfDir()); Backend model = load(kind, source);
             KvCache cache = model.newCache(prompts.size())) {
            float[][][] batched = new float[continuations[0].length + 1][][];
            batched[0] = model.prefill(cache, prompts, null);
            for (int s = 0; s < continuations[0].length; s++) {
                int[] next = new int[prompts.size()];
                for (int b = 0; b < next.length; b++) {
                    next[b] = continuations[b][s];
                }
                batched[s + 1] = model.decode(cache, next, null);
            }
            for (int b = 0; b < prompts.size(); b++) {
                int[] full = concat(prompts.get(b), continuations[b]);
                float[][] alone = model.logitsAtEveryPosition(full, null);
                for (int s = 0; s <= continuations[b].length; s++) {
                    assertClose(new float[][] {alone[prompts.get(b).length - 1 + s]}, new float[][] {batched[s][b]}, 1e-4f);
                }
                assertEquals(full.length, cache.length(b));
            }
        }
    }

    /**
     * A decode step stopped at any of its checks (before each layer, before the head) throws Preempted and leaves the
     * cache as it was: the step run again, and the steps after it, give the logits of a batch never preempted.
     */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void aPreemptedDecodeLeavesTheCacheAsItWas(Kind kind) {
        SyntheticModels.Model m = SyntheticModels.Spec.qwen2().write(dir);
        List<int[]> prompts = List.of(new int[] {7, 8, 9, 10, 11, 12}, new int[] {100, 101});
        int[][] steps = {{13, 102}, {14, 103}, {15, 104}};
        try (WeightSource source = ModelLoader.open(m.hfDir()); Backend model = load(kind, source)) {
            float[][][] plain = new float[steps.length][][];
            try (KvCache cache = model.newCache(prompts.size())) {
                model.prefill(cache, prompts, null);
                for (int s = 0; s < steps.length; s++) {
                    plain[s] = model.decode(cache, steps[s], null);
                }
            }
            int checks = source.config().layers() + 1; // before each layer and before the head
            for (int stopAt = 1; stopAt <= checks; stopAt++) {
                try (KvCache cache = model.newCache(prompts.size())) {
                    model.prefill(cache, prompts, null);
                    model.decode(cache, steps[0], null);
                    int[] asked = {0};
                    int stop = stopAt;
                    assertThrows(Backend.Preempted.class, () -> model.decode(cache, steps[1], null, () -> ++asked[0] == stop));
                    assertEquals(stopAt, asked[0], "the pass stops at the check that said true");
                    assertEquals(prompts.get(0).length + 1, cache.length(0), "no column added");
                    assertClose(plain[1], model.decode(cache, steps[1], null), 1e-5f);
                    assertClose(plain[2], model.decode(cache, steps[2], null), 1e-5f);
                }
            }
        }
    }

    /** Chunked prefill (any chunk, down to one position per pass) computes what one whole pass computes. */
    @ParameterizedTest
    @MethodSource("specsAndBackends")
    void chunkedPrefillEqualsOnePass(SyntheticModels.Spec spec, Kind kind) {
        SyntheticModels.Model m = spec.write(dir);
        List<int[]> prompts = List.of(new int[] {7, 8, 9, 10, 11, 12, 13}, new int[] {100}, new int[] {200, 201, 202, 203});
        try (WeightSource source = ModelLoader.open(m.hfDir()); Backend model = load(kind, source)) {
            float[][] whole = prefillAndDecode(model, prompts);
            float[][] everyWhole = model.logitsAtEveryPosition(TOKENS, null);
            for (int chunk : new int[] {1, 2, 3, 5, 7}) {
                model.setPrefillChunk(chunk);
                assertClose(whole, prefillAndDecode(model, prompts), 1e-4f);
                assertClose(everyWhole, model.logitsAtEveryPosition(TOKENS, null), 1e-4f);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void chunkedObserveCapturesTheLastTokenOfEveryRow(Kind kind) {
        SyntheticModels.Model m = SyntheticModels.Spec.llama().write(dir);
        List<int[]> prompts = List.of(new int[] {7, 8, 9, 10, 11, 12, 13}, new int[] {100}, new int[] {200, 201, 202, 203});
        boolean[] layers = {true, true, false};
        try (WeightSource source = ModelLoader.open(m.hfDir()); Backend model = load(kind, source);
             ActivationCapture whole = ActivationCapture.lastPosition(layers);
             ActivationCapture chunked = ActivationCapture.lastPosition(layers)) {
            model.observe(prompts, whole);
            model.setPrefillChunk(4); // 3 rows: one column per pass
            model.observe(prompts, chunked);
            for (int l = 0; l < 2; l++) {
                assertClose(whole.activations()[l], chunked.activations()[l], 1e-4f);
            }
        }
    }

    /** Prefill logits of each row, then one decode step's, as rows of one array. */
    private static float[][] prefillAndDecode(Backend model, List<int[]> prompts) {
        try (KvCache cache = model.newCache(prompts.size())) {
            float[][] first = model.prefill(cache, prompts, null);
            float[][] second = model.decode(cache, new int[] {1, 2, 3}, null);
            float[][] out = Arrays.copyOf(first, first.length + second.length);
            System.arraycopy(second, 0, out, first.length, second.length);
            return out;
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void scalingANeuronByZeroEqualsZeroingItsDownProjectionWeights(Kind kind) {
        SyntheticModels.Model m = SyntheticModels.Spec.llama().write(dir);
        int layer = 1;
        int neuron = 17;
        try (WeightSource source = ModelLoader.open(m.hfDir());
             WeightSource zeroed = zeroedDownColumn(source, layer, neuron);
             Backend model = load(kind, source);
             Backend ablatedCopy = load(kind, zeroed);
             NeuronScaling ablate = new NeuronScaling(source.config().layers(), source.config().intermediateSize(),
                     List.of(List.of(new NeuronScaling.Scale(layer, neuron, 0f))))) {
            float[][] steered = model.logitsAtEveryPosition(TOKENS, ablate);
            float[][] expected = ablatedCopy.logitsAtEveryPosition(TOKENS, null);
            for (int t = 0; t < TOKENS.length; t++) {
                assertArrayEquals(expected[t], steered[t], "position " + t);
            }
            assertFalse(Arrays.equals(expected[TOKENS.length - 1], model.logitsAtEveryPosition(TOKENS, null)[TOKENS.length - 1]),
                    "the neuron must matter, or the test proves nothing");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void scalingIsPerBatchRowAndMatchesTheReference(Kind kind) {
        SyntheticModels.Model m = SyntheticModels.Spec.llama().write(dir);
        try (WeightSource source = ModelLoader.open(m.hfDir()); Backend model = load(kind, source)) {
            ModelConfig c = source.config();
            List<NeuronScaling.Scale> scales = List.of(new NeuronScaling.Scale(0, 3, 4f), new NeuronScaling.Scale(2, 50, -1f),
                    new NeuronScaling.Scale(2, 50, 0.5f)); // composes to -0.5
            float[][] factors = new float[c.layers()][];
            factors[0] = ones(c.intermediateSize());
            factors[0][3] = 4f;
            factors[2] = ones(c.intermediateSize());
            factors[2][50] = -0.5f;
            float[][] expectedSteered = new ReferenceForward(source).logits(TOKENS, factors);
            float[][] expectedPlain = new ReferenceForward(source).logits(TOKENS, null);
            try (NeuronScaling hook = new NeuronScaling(c.layers(), c.intermediateSize(), List.of(scales, List.of()));
                 KvCache cache = model.newCache(2)) {
                float[][] logits = model.prefill(cache, List.of(TOKENS, TOKENS), hook);
                assertClose(new float[][] {expectedSteered[TOKENS.length - 1]}, new float[][] {logits[0]}, 2e-4f);
                assertClose(new float[][] {expectedPlain[TOKENS.length - 1]}, new float[][] {logits[1]}, 2e-4f);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void capturedActivationsEqualTheReference(Kind kind) {
        SyntheticModels.Model m = SyntheticModels.Spec.qwen2().write(dir);
        try (WeightSource source = ModelLoader.open(m.hfDir()); Backend model = load(kind, source)) {
            ReferenceForward reference = new ReferenceForward(source);
            reference.logits(TOKENS, null);
            boolean[] layers = {false, true, true};
            try (ActivationCapture last = ActivationCapture.lastPosition(layers);
                 ActivationCapture every = ActivationCapture.everyPosition(layers)) {
                model.logitsAtEveryPosition(TOKENS, last);
                model.logitsAtEveryPosition(TOKENS, every);
                float[][][] lastActs = last.activations();
                float[][][] everyActs = every.activations();
                assertEquals(null, lastActs[0]);
                for (int l = 1; l < 3; l++) {
                    assertClose(new float[][] {reference.activations[l][TOKENS.length - 1]}, lastActs[l], 1e-4f);
                    assertClose(reference.activations[l], everyActs[l], 1e-4f);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aHookThatWantsNoLayerChangesNothing(Kind kind) {
        SyntheticModels.Model m = SyntheticModels.Spec.llama().write(dir);
        try (WeightSource source = ModelLoader.open(m.hfDir()); Backend model = load(kind, source);
             NeuronScaling none = new NeuronScaling(3, source.config().intermediateSize(), List.of(List.of()))) {
            float[][] plain = model.logitsAtEveryPosition(TOKENS, null);
            float[][] hooked = model.logitsAtEveryPosition(TOKENS, none);
            for (int t = 0; t < TOKENS.length; t++) {
                assertArrayEquals(plain[t], hooked[t]);
            }
        }
    }

    /**
     * In the last layer, RelP's linearized gradient of a logit with respect to a neuron is plain algebra:
     * the logit row of the head, times the output norm's weight and its (constant) scale, times the neuron's
     * column of the down projection. Earlier positions' last-layer neurons do not reach the last logit.
     */
    @Test
    void relevanceInTheLastLayerIsActivationTimesTheLinearizedGradient() {
        SyntheticModels.Model m = SyntheticModels.Spec.llama().write(dir);
        int target = 42;
        int counterfactual = 7;
        try (WeightSource source = ModelLoader.open(m.hfDir()); Backend model = TorchBackend.load(source, WeightStorage.F32)) {
            ModelConfig c = source.config();
            ReferenceForward reference = new ReferenceForward(source);
            reference.logits(TOKENS, null);
            int last = TOKENS.length - 1;
            float[] x = reference.finalResidual[last];
            double ss = 0;
            for (float v : x) {
                ss += v * v;
            }
            double scale = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
            float[] norm = source.tensor(TensorNames.OUTPUT_NORM).data();
            float[] head = source.tensor(TensorNames.OUTPUT).data();
            HostTensor down = source.tensor(TensorNames.ffnDown(c.layers() - 1));
            float[][] relevance = model.relevance(TOKENS, target, counterfactual);
            for (int i = 0; i < c.intermediateSize(); i++) {
                double gradient = 0;
                for (int j = 0; j < c.hiddenSize(); j++) {
                    double headDiff = head[target * c.hiddenSize() + j] - head[counterfactual * c.hiddenSize() + j];
                    gradient += headDiff * norm[j] * scale * down.data()[j * c.intermediateSize() + i];
                }
                double expected = reference.activations[c.layers() - 1][last][i] * gradient;
                assertEquals(expected, relevance[c.layers() - 1][i], 1e-4 * Math.max(1, Math.abs(expected)), "neuron " + i);
            }
            float firstLayerTotal = 0;
            for (float v : relevance[0]) {
                firstLayerTotal += Math.abs(v);
            }
            assertTrue(firstLayerTotal > 0, "earlier layers get relevance too");
        }
    }

    private static void assertClose(float[][] expected, float[][] actual, float tolerance) {
        assertEquals(expected.length, actual.length);
        float worst = 0;
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i].length, actual[i].length);
            for (int j = 0; j < expected[i].length; j++) {
                float scale = Math.max(1f, Math.abs(expected[i][j]));
                worst = Math.max(worst, Math.abs(expected[i][j] - actual[i][j]) / scale);
            }
        }
        assertTrue(worst <= tolerance, "largest relative difference " + worst + " > " + tolerance);
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1f);
        return a;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The same model with one neuron's column of the down projection set to zero: the ablation done by hand. */
    private static WeightSource zeroedDownColumn(WeightSource source, int layer, int neuron) {
        HostTensor t = source.tensor(TensorNames.ffnDown(layer));
        float[] data = t.data().clone();
        int columns = t.shape()[1];
        for (int r = 0; r < t.shape()[0]; r++) {
            data[r * columns + neuron] = 0f;
        }
        return ReplacedWeights.f32(source, Map.of(t.name(), new HostTensor(t.name(), t.shape(), data)));
    }
}
