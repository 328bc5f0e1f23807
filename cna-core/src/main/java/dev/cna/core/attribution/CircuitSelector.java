package dev.cna.core.attribution;

import dev.cna.core.circuit.CircuitNeuron;
import dev.cna.core.circuit.Neuron;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/** Global top-k selection of circuit neurons by |delta| (docs/method.md section 2). */
public final class CircuitSelector {
    private CircuitSelector() {}

    /**
     * The outcome of one selection.
     *
     * @param neurons          the circuit, in {@link CircuitNeuron#RANKING} order
     * @param topK             the requested size (the circuit is shorter only if there were fewer candidates)
     * @param excludedLayers   every layer that was not ranked: excluded by the options or not recorded
     * @param blacklistedCount how many neurons of the top-k without the blacklist were blacklisted (and replaced)
     */
    public record Selection(List<CircuitNeuron> neurons, int topK, SortedSet<Integer> excludedLayers, int blacklistedCount) {
        public Selection {
            neurons = List.copyOf(neurons);
            excludedLayers = Collections.unmodifiableSortedSet(new TreeSet<>(excludedLayers));
        }
    }

    /**
     * Ranks every neuron of the layers that have a delta ({@code delta[layer] != null}) and are not excluded by
     * {@code options}, by |delta| descending, ties by (layer, index); skips {@code blacklist} when the options
     * say so; keeps the first {@code topK}.
     */
    public static Selection select(double[][] delta, SelectionOptions options, Set<Neuron> blacklist) {
        int size = intermediateSize(delta);
        SortedSet<Integer> excluded = new TreeSet<>();
        for (int layer = 0; layer < delta.length; layer++) {
            if (delta[layer] == null || options.excludeLayers().contains(layer)) {
                excluded.add(layer);
            }
        }
        Set<Neuron> skipped = options.useBlacklist() ? blacklist : Set.of();
        for (Neuron n : skipped) {
            if (n.layer() >= delta.length || n.index() >= size) {
                throw new IllegalArgumentException("blacklisted neuron " + n + " is outside the " + delta.length + " x " + size
                        + " model: is the blacklist for another model?");
            }
        }

        // A bounded heap whose head is the lowest-ranked neuron kept so far: O(neurons x log topK). It never holds
        // more than the candidates, so a topK beyond them (up to Integer.MAX_VALUE) keeps them all.
        long candidates = (long) (delta.length - excluded.size()) * size;
        int capacity = (int) Math.min(options.topK(), candidates) + 1;
        PriorityQueue<CircuitNeuron> kept = new PriorityQueue<>(capacity, CircuitNeuron.RANKING.reversed());
        for (int layer = 0; layer < delta.length; layer++) {
            if (excluded.contains(layer)) {
                continue;
            }
            for (int i = 0; i < size; i++) {
                CircuitNeuron candidate = new CircuitNeuron(layer, i, delta[layer][i]);
                if (skipped.contains(candidate.neuron())) {
                    continue;
                }
                if (kept.size() < options.topK()) {
                    kept.add(candidate);
                } else if (CircuitNeuron.RANKING.compare(candidate, kept.peek()) < 0) {
                    kept.poll();
                    kept.add(candidate);
                }
            }
        }
        List<CircuitNeuron> circuit = new ArrayList<>(kept);
        circuit.sort(CircuitNeuron.RANKING);

        // The top-k without the blacklist is the best k of (circuit + blacklisted): count the blacklisted among them.
        List<CircuitNeuron> unfiltered = new ArrayList<>(circuit);
        for (Neuron n : skipped) {
            if (!excluded.contains(n.layer())) {
                unfiltered.add(new CircuitNeuron(n.layer(), n.index(), delta[n.layer()][n.index()]));
            }
        }
        unfiltered.sort(CircuitNeuron.RANKING);
        int blacklisted = (int) unfiltered.stream().limit(options.topK()).filter(n -> skipped.contains(n.neuron())).count();
        return new Selection(circuit, options.topK(), excluded, blacklisted);
    }

    private static int intermediateSize(double[][] delta) {
        int size = -1;
        for (int layer = 0; layer < delta.length; layer++) {
            if (delta[layer] == null) {
                continue;
            }
            if (size >= 0 && delta[layer].length != size) {
                throw new IllegalArgumentException("layer " + layer + " has " + delta[layer].length + " neurons, earlier layers " + size);
            }
            size = delta[layer].length;
        }
        if (size < 0) {
            throw new IllegalArgumentException("no layer has a delta");
        }
        return size;
    }
}
