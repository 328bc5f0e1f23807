package dev.cna.core.runtime.cpu;

import dev.cna.core.model.HostTensor;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.RawTensor;
import dev.cna.core.model.ReplacedWeights;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.model.TensorNames;
import dev.cna.core.model.WeightSource;
import dev.cna.core.model.gguf.GgmlType;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.BackendOptions;
import dev.cna.core.runtime.NeuronScaling;
import dev.cna.core.runtime.quant.RandomBlocks;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cpu backend on the blocks of every supported type against the torch reference on the same weights
 * dequantized: a synthetic model whose projections, embedding and head are random valid blocks of one type.
 */
class QuantTypesTest {
    private static final int[] TOKENS = {5, 77, 130, 9, 250, 41, 3, 199, 64, 12, 8, 100};

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void everyTypeComputesWhatTheReferenceComputesOnItsDequantizedWeights(GgmlType type) {
        // K-quant rows are 256 values: hidden and intermediate sizes are multiples of it
        SyntheticModels.Spec spec = new SyntheticModels.Spec("llama", 256, 4, 2, 64, 512, 2, false, false, "F32", 1,
                Map.of(), 4242);
        SyntheticModels.Model m = spec.write(dir);
        try (WeightSource plain = ModelLoader.open(m.hfDir());
             WeightSource blocks = randomBlocks(plain, type, 7);
             Backend cpu = BackendOptions.cpu().load(blocks);
             Backend torch = BackendOptions.torch().load(blocks);
             NeuronScaling steer = new NeuronScaling(2, 512, List.of(List.of(new NeuronScaling.Scale(1, 33, 0f),
                     new NeuronScaling.Scale(0, 200, 3f))))) {
            float[][] expected = torch.logitsAtEveryPosition(TOKENS, null);
            float[][] steered = torch.logitsAtEveryPosition(TOKENS, steer);
            assertClose(type + " unsteered", expected, cpu.logitsAtEveryPosition(TOKENS, null));
            assertClose(type + " steered", steered, cpu.logitsAtEveryPosition(TOKENS, steer));
            assertTrue(maxDifference(expected, steered) > 1e-3f, type + ": the steering must change something");
        }
    }

    /** Largest difference relative to the logits' spread: f32 sums in another order differ by ~1e-6 of it. */
    private static void assertClose(String what, float[][] expected, float[][] actual) {
        float spread = 0;
        for (float[] row : expected) {
            for (float v : row) {
                spread = Math.max(spread, Math.abs(v));
            }
        }
        float worst = maxDifference(expected, actual);
        assertTrue(spread > 0.1f, what + ": logits all near 0, the test proves nothing");
        assertTrue(worst <= 1e-4f * spread, what + ": largest difference " + worst + " of logits up to " + spread);
    }

    private static float maxDifference(float[][] a, float[][] b) {
        float worst = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                float d = Math.abs(a[i][j] - b[i][j]);
                worst = Float.isNaN(d) ? Float.POSITIVE_INFINITY : Math.max(worst, d);
            }
        }
        return worst;
    }

    /**
     * The synthetic model with every matrix (projections, embedding, head) replaced by random valid blocks of one
     * type: both backends see the same weights (the blocks, or their dequantization).
     */
    private static WeightSource randomBlocks(WeightSource source, GgmlType type, long seed) {
        Random random = new Random(seed);
        ModelConfig c = source.config();
        List<String> names = new ArrayList<>(List.of(TensorNames.TOKEN_EMBEDDING, TensorNames.OUTPUT));
        for (int l = 0; l < c.layers(); l++) {
            names.addAll(List.of(TensorNames.attnQ(l), TensorNames.attnK(l), TensorNames.attnV(l),
                    TensorNames.attnOutput(l), TensorNames.ffnGate(l), TensorNames.ffnUp(l), TensorNames.ffnDown(l)));
        }
        Map<String, RawTensor> raw = new HashMap<>();
        for (String name : names) {
            HostTensor t = source.tensor(name);
            int rows = t.shape()[0];
            int cols = t.shape()[1];
            ByteBuffer bytes = ByteBuffer.wrap(RandomBlocks.of(type, (long) rows * cols, random)).order(ByteOrder.LITTLE_ENDIAN);
            raw.put(name, new RawTensor(source.path(), name, type, rows, cols, bytes));
        }
        return new ReplacedWeights(source, raw);
    }
}
