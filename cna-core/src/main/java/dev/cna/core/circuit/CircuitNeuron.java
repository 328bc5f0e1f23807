package dev.cna.core.circuit;

import java.util.Comparator;

/** A circuit member: a neuron and its signed contrast {@code delta = mu+ - mu-}. */
public record CircuitNeuron(int layer, int index, double delta) {
    /** The circuit order: |delta| descending, ties by (layer, index) ascending, so every ranking is deterministic. */
    public static final Comparator<CircuitNeuron> RANKING = Comparator
            .comparingDouble((CircuitNeuron n) -> -Math.abs(n.delta))
            .thenComparingInt(CircuitNeuron::layer)
            .thenComparingInt(CircuitNeuron::index);

    public CircuitNeuron {
        if (layer < 0 || index < 0) {
            throw new IllegalArgumentException("a neuron has a non-negative layer and index, got (" + layer + ", " + index + ")");
        }
        if (!Double.isFinite(delta)) {
            throw new IllegalArgumentException("delta of neuron (" + layer + ", " + index + ") is not finite: " + delta);
        }
    }

    public Neuron neuron() {
        return new Neuron(layer, index);
    }
}
