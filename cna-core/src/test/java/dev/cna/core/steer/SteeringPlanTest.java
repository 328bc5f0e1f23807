package dev.cna.core.steer;

import dev.cna.core.runtime.torch.TorchBackend;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.KvCache;
import dev.cna.core.runtime.NeuronScaling;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.torch.WeightStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.cna.core.circuit.TestCircuits.FINGERPRINT;
import static dev.cna.core.circuit.TestCircuits.circuit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Compiling circuits into a plan, refusing foreign circuits, and per-row steering in one batch. */
class SteeringPlanTest {
    static final String OTHER_FINGERPRINT = "f".repeat(64);

    @TempDir
    Path dir;

    private static Map<String, Float> factors(SteeringPlan plan) {
        Map<String, Float> out = new HashMap<>();
        for (NeuronScaling.Scale s : plan.scales()) {
            Float previous = out.put(s.layer() + ":" + s.index(), s.factor());
            assertNull(previous, "one scale per neuron after compiling, got two for " + s.layer() + ":" + s.index());
        }
        return out;
    }

    @Test
    void factorsOfCircuitsSharingANeuronMultiply() {
        ModelConfig c = SyntheticModels.Spec.llama().config();
        Circuit a = circuit("a", c, new double[] {2, 5, 3.0}, new double[] {1, 3, 2.0});
        Circuit b = circuit("b", c, new double[] {2, 5, 1.0}, new double[] {0, 7, -0.5});
        Circuit d = circuit("d", c, new double[] {2, 5, 0.1});
        SteeringPlan plan = SteeringPlan.compile(List.of(new CircuitStrength(a, 0.5f), new CircuitStrength(b, 3f),
                new CircuitStrength(d, -1f)), c, FINGERPRINT);
        assertFalse(plan.isEmpty());
        assertEquals(Map.of("2:5", -1.5f, "1:3", 0.5f, "0:7", 3f), factors(plan));

        // One circuit alone gives its own multiplier; order of circuits does not matter.
        assertEquals(Map.of("2:5", 0.5f, "1:3", 0.5f), factors(SteeringPlan.compile(List.of(new CircuitStrength(a, 0.5f)), c, FINGERPRINT)));
        assertEquals(factors(plan), factors(SteeringPlan.compile(List.of(new CircuitStrength(d, -1f), new CircuitStrength(b, 3f),
                new CircuitStrength(a, 0.5f)), c, FINGERPRINT)));
        assertTrue(SteeringPlan.compile(List.of(), c, FINGERPRINT).isEmpty());
    }

    @Test
    void aCircuitOfAnotherModelIsRefusedWithAClearMessage() {
        ModelConfig c = SyntheticModels.Spec.llama().config();
        Circuit foreign = circuit("refusal-other", OTHER_FINGERPRINT, c.layers(), c.intermediateSize(), new double[] {2, 5, 1.0});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SteeringPlan.compile(List.of(new CircuitStrength(foreign, 0f)), c, FINGERPRINT));
        assertTrue(e.getMessage().contains("refusal-other"), e.getMessage());
        assertTrue(e.getMessage().contains(OTHER_FINGERPRINT) && e.getMessage().contains(FINGERPRINT), e.getMessage());
        assertTrue(e.getMessage().contains("not on the running model"), e.getMessage());

        Circuit wrongShape = circuit("deeper", FINGERPRINT, c.layers() + 1, c.intermediateSize(), new double[] {3, 5, 1.0});
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> SteeringPlan.compile(List.of(new CircuitStrength(wrongShape, 0f)), c, FINGERPRINT));
        assertTrue(shape.getMessage().contains("deeper"), shape.getMessage());
        assertTrue(shape.getMessage().contains("shape " + (c.layers() + 1) + " x " + c.intermediateSize()), shape.getMessage());
        assertTrue(shape.getMessage().contains(c.layers() + " x " + c.intermediateSize()), shape.getMessage());

        Circuit wider = circuit("wider", FINGERPRINT, c.layers(), c.intermediateSize() * 2, new double[] {2, 5, 1.0});
        assertThrows(IllegalArgumentException.class, () -> SteeringPlan.compile(List.of(new CircuitStrength(wider, 1f)), c, FINGERPRINT));
        // A good circuit next to a bad one does not get the bad one through.
        Circuit good = circuit("good", c, new double[] {2, 5, 1.0});
        assertThrows(IllegalArgumentException.class, () -> SteeringPlan.compile(
                List.of(new CircuitStrength(good, 0f), new CircuitStrength(foreign, 0f)), c, FINGERPRINT));
    }

    @Test
    void theHookIsNullWhenNoRowSteers() {
        ModelConfig c = SyntheticModels.Spec.llama().config();
        SteeringPlan empty = SteeringPlan.compile(List.of(), c, FINGERPRINT);
        assertNull(SteeringPlan.hook(List.of(SteeringPlan.NONE, empty, SteeringPlan.NONE), c));
        assertNull(SteeringPlan.hook(List.of(SteeringPlan.NONE), c));
        SteeringPlan steering = SteeringPlan.compile(List.of(new CircuitStrength(circuit("a", c, new double[] {2, 5, 1.0}), 0f)), c, FINGERPRINT);
        try (NeuronScaling hook = SteeringPlan.hook(List.of(SteeringPlan.NONE, steering), c)) {
            assertNotNull(hook);
            assertTrue(hook.wants(2));
            assertFalse(hook.wants(0));
            assertFalse(hook.wants(1));
        }
    }

    @Test
    void eachRowOfABatchGetsExactlyWhatItGetsAlone() {
        SyntheticModels.Model m = SyntheticModels.Spec.llama().write(dir);
        try (WeightSource source = ModelLoader.open(m.hfDir()); Backend model = TorchBackend.load(source, WeightStorage.F32)) {
            ModelConfig c = source.config();
            Circuit ablate = circuit("ablate", c, new double[] {0, 3, 2.0}, new double[] {1, 17, 1.5}, new double[] {2, 50, 1.0},
                    new double[] {2, 8, 0.5});
            Circuit amplify = circuit("amplify", c, new double[] {1, 17, 1.0}, new double[] {2, 8, 0.7}, new double[] {2, 60, 0.2});
            List<SteeringPlan> plans = List.of(
                    SteeringPlan.compile(List.of(new CircuitStrength(ablate, 0f)), c, FINGERPRINT),
                    SteeringPlan.NONE,
                    SteeringPlan.compile(List.of(new CircuitStrength(amplify, 4f), new CircuitStrength(ablate, -1f)), c, FINGERPRINT));
            List<int[]> prompts = List.of(new int[] {7, 8, 9, 10, 11, 12}, new int[] {100, 101}, new int[] {200, 201, 202, 203});
            int[][] continuation = {{13, 14, 15}, {102, 103, 104}, {204, 205, 206}};

            float[][][] batched = run(model, c, prompts, plans, continuation); // [step][row][vocab]
            for (int r = 0; r < prompts.size(); r++) {
                float[][][] alone = run(model, c, List.of(prompts.get(r)), List.of(plans.get(r)), new int[][] {continuation[r]});
                for (int s = 0; s < alone.length; s++) {
                    assertClose(alone[s][0], batched[s][r], 1e-4f, "row " + r + " step " + s);
                }
            }
            // The plans matter, so the equality above is not the trivial one.
            float[][][] plain = run(model, c, List.of(prompts.get(0)), List.of(SteeringPlan.NONE), new int[][] {continuation[0]});
            assertTrue(maxAbsDiff(plain[0][0], batched[0][0]) > 1e-2, "ablation changes row 0");
            float[][][] plain2 = run(model, c, List.of(prompts.get(2)), List.of(SteeringPlan.NONE), new int[][] {continuation[2]});
            assertTrue(maxAbsDiff(plain2[3][0], batched[3][2]) > 1e-2, "amplification changes row 2 in decode too");
        }
    }

    /** Prefill, then one decode step per continuation column; the logits of every step, [step][row][vocab]. */
    private static float[][][] run(Backend model, ModelConfig c, List<int[]> prompts, List<SteeringPlan> plans, int[][] continuation) {
        int steps = continuation[0].length;
        float[][][] out = new float[steps + 1][][];
        try (KvCache cache = model.newCache(prompts.size()); NeuronScaling hook = SteeringPlan.hook(plans, c)) {
            out[0] = model.prefill(cache, prompts, hook);
            for (int s = 0; s < steps; s++) {
                int[] next = new int[prompts.size()];
                for (int r = 0; r < next.length; r++) {
                    next[r] = continuation[r][s];
                }
                out[s + 1] = model.decode(cache, next, hook);
            }
        }
        return out;
    }

    static void assertClose(float[] expected, float[] actual, float tolerance, String what) {
        assertEquals(expected.length, actual.length, what);
        double diff = maxAbsDiff(expected, actual);
        assertTrue(diff <= tolerance, what + ": max |diff| " + diff + " > " + tolerance + " " + Arrays.toString(Arrays.copyOf(actual, 4)));
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
