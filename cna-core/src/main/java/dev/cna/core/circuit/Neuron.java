package dev.cna.core.circuit;

import java.util.Comparator;

/** One MLP neuron: the input of layer {@code layer}'s down projection at position {@code index}. */
public record Neuron(int layer, int index) implements Comparable<Neuron> {
    private static final Comparator<Neuron> ORDER = Comparator.comparingInt(Neuron::layer).thenComparingInt(Neuron::index);

    public Neuron {
        if (layer < 0 || index < 0) {
            throw new IllegalArgumentException("a neuron has a non-negative layer and index, got (" + layer + ", " + index + ")");
        }
    }

    /** (layer, index) ascending: the tie-break order of every ranking in this package. */
    @Override
    public int compareTo(Neuron other) {
        return ORDER.compare(this, other);
    }

    @Override
    public String toString() {
        return "(" + layer + ", " + index + ")";
    }
}
