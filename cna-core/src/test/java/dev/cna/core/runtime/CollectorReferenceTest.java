package dev.cna.core.runtime;

import dev.cna.core.runtime.torch.TorchBackend;
import dev.cna.core.runtime.torch.WeightStorage;
import dev.cna.core.attribution.ActivationCollector;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.model.WeightSource;
import dev.cna.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The collector's batched, left-padded, early-stopping pass gives each prompt's last-token neuron activations
 * as the plain-Java reference computes them for that prompt alone.
 */
class CollectorReferenceTest {
    private static final List<String> PROMPTS = List.of("The weather today is", "a", "In 1969, the first humans walked",
            "def f(n): return n", "xyz", "Once upon a time, in a small village,", "42");

    @TempDir
    Path dir;

    static Stream<SyntheticModels.Spec> specs() {
        return Stream.of(SyntheticModels.Spec.llama(), SyntheticModels.Spec.qwen2());
    }

    @ParameterizedTest
    @MethodSource("specs")
    void batchedActivationsEqualTheReference(SyntheticModels.Spec spec) {
        SyntheticModels.Model m = spec.write(dir);
        try (WeightSource source = ModelLoader.open(m.hfDir()); Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec());
             Backend model = TorchBackend.load(source, WeightStorage.F32)) {
            // Layer 2 is the last: earlier layers only, so the pass stops early and still must be right.
            boolean[] layers = {true, true, false};
            ActivationCollector collector = new ActivationCollector(model, tokenizer, 4);
            float[][][] collected = collector.neurons(PROMPTS, true, layers);
            for (int p = 0; p < PROMPTS.size(); p++) {
                int[] tokens = collector.promptTokens(PROMPTS.get(p), true);
                ReferenceForward reference = new ReferenceForward(source);
                reference.logits(tokens, null);
                assertNull(collected[p][2]);
                for (int l = 0; l < 2; l++) {
                    float[] expected = reference.activations[l][tokens.length - 1];
                    float[] actual = collected[p][l];
                    assertEquals(expected.length, actual.length);
                    for (int i = 0; i < expected.length; i++) {
                        double diff = Math.abs(expected[i] - actual[i]);
                        assertTrue(diff <= 1e-4, "prompt " + p + " layer " + l + " neuron " + i + ": " + expected[i] + " vs " + actual[i]);
                    }
                }
            }
        }
    }
}
