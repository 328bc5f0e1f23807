package dev.cna.core.attribution;

import dev.cna.core.runtime.torch.TorchBackend;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.torch.WeightStorage;
import dev.cna.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Batched last-token collection equals one prompt at a time, comes back in prompt order, and records only what was asked. */
class ActivationCollectorTest {
    /** Lengths deliberately unsorted and uneven, so batches of 4 are left-padded and reordered. */
    static final List<String> PROMPTS = List.of(
            "The weather today is",
            "a",
            "In 1969, the first humans walked on the moon and came back",
            "def f(n):",
            "xyz",
            "Once upon a time, in a small village, there lived an old miller",
            "To install",
            "She opened the door and saw the sea",
            "42",
            "The capital of Australia is Canberra, not Sydney.");

    @TempDir
    Path dir;

    @ParameterizedTest(name = "chat template {0}")
    @ValueSource(booleans = {false, true})
    void batchesOfFourEqualOnePromptAtATimeInPromptOrder(boolean chatTemplate) {
        SyntheticModels.Model m = SyntheticModels.Spec.qwen2().write(dir);
        try (WeightSource source = ModelLoader.open(m.gguf()); Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec());
             Backend model = TorchBackend.load(source, WeightStorage.F32)) {
            boolean[] layers = {false, true, true};
            ActivationCollector single = new ActivationCollector(model, tokenizer, 1);
            ActivationCollector batched = new ActivationCollector(model, tokenizer, 4);
            long distinctLengths = PROMPTS.stream().mapToInt(p -> single.promptTokens(p, chatTemplate).length).distinct().count();
            assertTrue(distinctLengths >= 8, "prompts of different lengths, so batches are padded");

            float[][][] one = single.neurons(PROMPTS, chatTemplate, layers);
            float[][][] four = batched.neurons(PROMPTS, chatTemplate, layers);
            assertEquals(PROMPTS.size(), four.length);
            for (int p = 0; p < PROMPTS.size(); p++) {
                assertNull(four[p][0], "layer 0 was not asked for");
                for (int l = 1; l < 3; l++) {
                    assertClose(one[p][l], four[p][l], 1e-4f, "prompt " + p + " layer " + l);
                }
                // In prompt order: each row is what that prompt gives alone, not what a neighbour gives.
                float[][] alone = single.neurons(List.of(PROMPTS.get(p)), chatTemplate, layers)[0];
                assertClose(alone[2], four[p][2], 1e-4f, "prompt " + p + " alone");
                if (p > 0) {
                    assertNotEquals(maxAbsDiff(four[p][2], four[p - 1][2]), 0.0, "prompts " + (p - 1) + " and " + p + " differ");
                }
            }
        }
    }

    @Test
    void theConsumerSeesEveryPromptOnceInLengthOrderWithProgressPerBatch() {
        SyntheticModels.Model m = SyntheticModels.Spec.llama().write(dir);
        try (WeightSource source = ModelLoader.open(m.hfDir()); Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec());
             Backend model = TorchBackend.load(source, WeightStorage.F32)) {
            ActivationCollector collector = new ActivationCollector(model, tokenizer, 4);
            List<Integer> seen = new ArrayList<>();
            List<Integer> progress = new ArrayList<>();
            collector.neurons(PROMPTS, false, new boolean[] {true, false, false}, progress::add, (i, a) -> {
                seen.add(i);
                assertNotNull(a[0]);
                assertNull(a[1]);
                assertEquals(source.config().intermediateSize(), a[0].length);
            });
            assertEquals(IntStream.range(0, PROMPTS.size()).boxed().toList(), seen.stream().sorted().toList(), "each prompt once");
            int[] lengths = seen.stream().mapToInt(i -> collector.promptTokens(PROMPTS.get(i), false).length).toArray();
            int[] sorted = lengths.clone();
            Arrays.sort(sorted);
            assertTrue(Arrays.equals(sorted, lengths), "batches run shortest first: " + Arrays.toString(lengths));
            assertEquals(List.of(4, 8, 10), progress);
        }
    }

    /**
     * A token limit only changes how prompts are grouped: each batch holds at most batchTokens padded tokens
     * (rows x its longest prompt) or is a single prompt, and every prompt's activations are the same whatever
     * the limit.
     */
    @ParameterizedTest(name = "batch tokens {0}")
    @ValueSource(ints = {1, 60, 100, 200, Integer.MAX_VALUE})
    void theTokenLimitBoundsEachBatchAndChangesNoActivation(int batchTokens) {
        SyntheticModels.Model m = SyntheticModels.Spec.llama().write(dir);
        try (WeightSource source = ModelLoader.open(m.gguf()); Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec());
             Backend model = TorchBackend.load(source, WeightStorage.F32)) {
            boolean[] layers = {true, true, true};
            ActivationCollector unlimited = new ActivationCollector(model, tokenizer, 4, Integer.MAX_VALUE);
            ActivationCollector limited = new ActivationCollector(model, tokenizer, 4, batchTokens);
            assertEquals(batchTokens, limited.batchTokens());
            float[][][] expected = unlimited.neurons(PROMPTS, true, layers);

            float[][][] actual = new float[PROMPTS.size()][][];
            List<Integer> order = new ArrayList<>();
            List<Integer> progress = new ArrayList<>();
            limited.neurons(PROMPTS, true, layers, progress::add, (i, a) -> {
                order.add(i);
                actual[i] = a;
            });
            for (int p = 0; p < PROMPTS.size(); p++) {
                for (int l = 0; l < layers.length; l++) {
                    assertClose(expected[p][l], actual[p][l], 1e-4f, "prompt " + p + " layer " + l);
                }
            }
            // Batches from the progress callbacks: consecutive prompts of the consumer's (length) order.
            int start = 0;
            int batches = 0;
            for (int done : progress) {
                int rows = done - start;
                int longest = limited.promptTokens(PROMPTS.get(order.get(done - 1)), true).length;
                assertTrue(rows >= 1 && rows <= 4, "at most batchSize rows, got " + rows);
                assertTrue(rows == 1 || (long) rows * longest <= batchTokens,
                        rows + " rows x " + longest + " tokens exceed the limit " + batchTokens);
                if (done < PROMPTS.size()) {
                    int next = limited.promptTokens(PROMPTS.get(order.get(done)), true).length;
                    assertTrue(rows == 4 || (long) (rows + 1) * next > batchTokens, "a batch is as full as the limits allow");
                }
                start = done;
                batches++;
            }
            assertEquals(PROMPTS.size(), start);
            if (batchTokens == 1) {
                assertEquals(PROMPTS.size(), batches, "every prompt is longer than 1 token: each runs alone");
            } else if (batchTokens == Integer.MAX_VALUE) {
                assertEquals(3, batches, "only the batch size limits");
            }
        }
    }

    @Test
    void aBatchSizeBelowOneIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ActivationCollector(null, null, 0));
        assertTrue(e.getMessage().contains("batch size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ActivationCollector(null, null, 4, 0));
        assertTrue(e.getMessage().contains("batch tokens"), e.getMessage());
    }

    static void assertClose(float[] expected, float[] actual, float tolerance, String what) {
        assertEquals(expected.length, actual.length, what);
        double diff = maxAbsDiff(expected, actual);
        assertTrue(diff <= tolerance, what + ": max |diff| " + diff + " > " + tolerance);
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
