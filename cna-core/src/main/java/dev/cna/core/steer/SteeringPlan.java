package dev.cna.core.steer;

import dev.cna.core.model.ModelConfig;
import dev.cna.core.runtime.NeuronScaling;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Circuits with multipliers compiled once into per-layer neuron indices and factors; circuits sharing a
 * neuron compose by multiplying their factors. One plan per request: {@link #hook} turns the plans of a
 * batch's rows into the scaling hook, applied at every position of prefill and decode.
 */
public final class SteeringPlan {
    public static final SteeringPlan NONE = new SteeringPlan(new int[0][], new float[0][]);

    private final int[][] indices;   // [layer] -> neuron indices, null where the layer is untouched
    private final float[][] factors; // [layer] -> factors, aligned with indices

    private SteeringPlan(int[][] indices, float[][] factors) {
        this.indices = indices;
        this.factors = factors;
    }

    /**
     * @param fingerprint the running model's fingerprint: a circuit made on another model is refused
     * @throws ForeignCircuitException for a circuit of another model
     */
    public static SteeringPlan compile(List<CircuitStrength> circuits, ModelConfig config, String fingerprint) {
        return compose(circuits.stream()
                .map(cs -> CompiledCircuit.compile(cs.circuit(), config, fingerprint).times(cs.multiplier()))
                .toList(), config.layers());
    }

    /** Merges compiled circuits into one plan; a neuron in several circuits gets the product of their factors. */
    public static SteeringPlan compose(List<CompiledCircuit.Scaled> circuits, int layers) {
        if (circuits.isEmpty()) {
            return NONE;
        }
        int[][] indices = new int[layers][];
        float[][] factors = new float[layers][];
        for (int l = 0; l < layers; l++) {
            Map<Integer, Float> layer = new TreeMap<>();
            for (CompiledCircuit.Scaled scaled : circuits) {
                for (int index : scaled.compiled().indices()[l]) {
                    layer.merge(index, scaled.multiplier(), (a, b) -> a * b);
                }
            }
            if (layer.isEmpty()) {
                continue;
            }
            indices[l] = layer.keySet().stream().mapToInt(Integer::intValue).toArray();
            factors[l] = new float[indices[l].length];
            int k = 0;
            for (float f : layer.values()) {
                factors[l][k++] = f;
            }
        }
        return new SteeringPlan(indices, factors);
    }

    public boolean isEmpty() {
        for (int[] layer : indices) {
            if (layer != null) {
                return false;
            }
        }
        return true;
    }

    /** The plan as per-neuron scales. */
    public List<NeuronScaling.Scale> scales() {
        List<NeuronScaling.Scale> scales = new ArrayList<>();
        for (int l = 0; l < indices.length; l++) {
            for (int k = 0; indices[l] != null && k < indices[l].length; k++) {
                scales.add(new NeuronScaling.Scale(l, indices[l][k], factors[l][k]));
            }
        }
        return scales;
    }

    /** The scaling hook for a batch whose row r follows rows.get(r); null when no row steers (no cost). */
    public static NeuronScaling hook(List<SteeringPlan> rows, ModelConfig config) {
        if (rows.stream().allMatch(SteeringPlan::isEmpty)) {
            return null;
        }
        return new NeuronScaling(config.layers(), config.intermediateSize(), rows.stream().map(SteeringPlan::scales).toList());
    }
}
