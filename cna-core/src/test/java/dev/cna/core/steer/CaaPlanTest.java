package dev.cna.core.steer;

import dev.cna.core.runtime.torch.TorchBackend;
import dev.cna.core.attribution.ActivationCollector;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.ActivationCapture;
import dev.cna.core.runtime.Activations;
import dev.cna.core.runtime.MlpHook;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.torch.WeightStorage;
import dev.cna.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static dev.cna.core.steer.SteeringPlanTest.assertClose;
import static dev.cna.core.steer.SteeringPlanTest.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CAA baseline adds alpha times the mean MLP-output difference to each layer's MLP output, and nothing else. */
class CaaPlanTest {
    private static final int[] TOKENS = {5, 77, 130, 9, 250, 41, 3, 199, 64};
    private static final List<String> POSITIVE = List.of("Bonjour, comment allez-vous ?", "Je suis content", "Merci beaucoup");
    private static final List<String> NEGATIVE = List.of("Hello, how are you?", "I am happy", "Thank you very much");

    @TempDir
    Path dir;

    @Test
    void meanDifferenceIsPositiveMeanMinusNegativeMeanPerLayer() {
        float[][][] positive = {{null, {1, 2}}, {null, {3, 6}}};
        float[][][] negative = {{null, {0.5f, -1}}};
        float[][] d = CaaPlan.meanDifference(positive, negative);
        assertNull(d[0]);
        assertArrayEquals(new float[] {1.5f, 5f}, d[1]);
    }

    @Test
    void alphaZeroChangesNothing() {
        SyntheticModels.Model m = SyntheticModels.Spec.llama().write(dir);
        try (WeightSource source = ModelLoader.open(m.hfDir()); Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec());
             Backend model = TorchBackend.load(source, WeightStorage.F32)) {
            float[][] direction = direction(model, tokenizer, source.config());
            try (CaaPlan zero = new CaaPlan(direction, 0f); CaaPlan some = new CaaPlan(direction, 0.5f)) {
                for (int l = 0; l < source.config().layers(); l++) {
                    assertFalse(zero.wantsOutput(l), "layer " + l);
                    assertFalse(zero.wants(l), "layer " + l);
                }
                float[][] plain = model.logitsAtEveryPosition(TOKENS, null);
                float[][] steered = model.logitsAtEveryPosition(TOKENS, zero);
                for (int t = 0; t < TOKENS.length; t++) {
                    assertArrayEquals(plain[t], steered[t], "position " + t);
                }
                float[][] moved = model.logitsAtEveryPosition(TOKENS, some);
                assertTrue(maxAbsDiff(plain[TOKENS.length - 1], moved[TOKENS.length - 1]) > 1e-3, "alpha 0.5 does move the logits");
            }
        }
    }

    @Test
    void alphaAddsExactlyAlphaTimesTheDirectionToTheMlpOutputAtEveryPosition() {
        SyntheticModels.Model m = SyntheticModels.Spec.qwen2().write(dir);
        try (WeightSource source = ModelLoader.open(m.gguf()); Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec());
             Backend model = TorchBackend.load(source, WeightStorage.F32)) {
            ModelConfig c = source.config();
            float[][] direction = direction(model, tokenizer, c);
            direction[0] = null; // layer 0 untouched: only layers 1 and 2 steer
            float alpha = 1.5f;
            int hidden = c.hiddenSize();

            // The unsteered MLP outputs at the last position.
            float[][][] plain;
            try (ActivationCapture capture = ActivationCapture.mlpOutputLastPosition(new boolean[] {true, true, true})) {
                model.logitsAtEveryPosition(TOKENS, capture);
                plain = capture.activations();
            }

            float[][] before = new float[c.layers()][];
            float[][] after = new float[c.layers()][];
            try (CaaPlan caa = new CaaPlan(direction, alpha)) {
                assertFalse(caa.wantsOutput(0));
                assertTrue(caa.wantsOutput(1) && caa.wantsOutput(2));
                MlpHook recording = new MlpHook() {
                    @Override
                    public boolean wants(int layer) {
                        return caa.wants(layer);
                    }

                    @Override
                    public void apply(int layer, Activations h) {
                        caa.apply(layer, h);
                    }

                    @Override
                    public boolean wantsOutput(int layer) {
                        return true;
                    }

                    @Override
                    public void afterMlp(int layer, Activations out) {
                        before[layer] = flat(out.everyPosition());
                        if (caa.wantsOutput(layer)) {
                            caa.afterMlp(layer, out);
                        }
                        after[layer] = flat(out.everyPosition());
                    }
                };
                model.logitsAtEveryPosition(TOKENS, recording);
            }

            for (int l = 0; l < c.layers(); l++) {
                assertEquals(TOKENS.length * hidden, after[l].length);
                for (int t = 0; t < TOKENS.length; t++) {
                    for (int i = 0; i < hidden; i++) {
                        float added = after[l][t * hidden + i] - before[l][t * hidden + i];
                        float expected = direction[l] == null ? 0f : alpha * direction[l][i];
                        assertEquals(expected, added, 1e-5f * (1 + Math.abs(before[l][t * hidden + i])),
                                "layer " + l + " position " + t + " dim " + i);
                    }
                }
            }
            int last = (TOKENS.length - 1) * hidden;
            // Up to the first steered layer the MLP outputs are the plain model's ...
            for (int l = 0; l <= 1; l++) {
                assertClose(plain[l][0], java.util.Arrays.copyOfRange(before[l], last, last + hidden), 1e-5f, "layer " + l);
            }
            // ... and the addition reaches the residual stream: layer 2's MLP sees a different input.
            assertTrue(maxAbsDiff(plain[2][0], java.util.Arrays.copyOfRange(before[2], last, last + hidden)) > 1e-3,
                    "layer 1's addition must change what layer 2 computes");
        }
    }

    /** The CAA direction of this model from the collector's MLP outputs, as the evaluation builds it. */
    private static float[][] direction(Backend model, Tokenizer tokenizer, ModelConfig c) {
        ActivationCollector collector = new ActivationCollector(model, tokenizer, 4);
        boolean[] all = new boolean[c.layers()];
        java.util.Arrays.fill(all, true);
        float[][] d = CaaPlan.meanDifference(collector.mlpOutputs(POSITIVE, true, all), collector.mlpOutputs(NEGATIVE, true, all));
        for (float[] layer : d) {
            assertTrue(maxAbsDiff(layer, new float[layer.length]) > 1e-3, "a direction that is not zero");
        }
        return d;
    }

    private static float[] flat(float[][] rows) {
        int width = rows[0].length;
        float[] out = new float[rows.length * width];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, out, r * width, width);
        }
        return out;
    }
}
