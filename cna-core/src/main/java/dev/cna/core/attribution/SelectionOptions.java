package dev.cna.core.attribution;

import java.util.Collections;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Options of contrastive selection (docs/method.md section 2).
 *
 * @param topK          how many neurons the circuit keeps
 * @param excludeLayers layers never ranked (the first layers mostly encode tokens, not behavior)
 * @param useBlacklist  whether universal neurons are skipped
 */
public record SelectionOptions(int topK, Set<Integer> excludeLayers, boolean useBlacklist) {
    public static final int DEFAULT_TOP_K = 200;
    public static final Set<Integer> DEFAULT_EXCLUDE_LAYERS = Set.of(0, 1);

    public SelectionOptions {
        if (topK <= 0) {
            throw new IllegalArgumentException("topK must be positive, got " + topK);
        }
        for (int layer : excludeLayers) {
            if (layer < 0) {
                throw new IllegalArgumentException("excluded layer must be non-negative, got " + layer);
            }
        }
        excludeLayers = Collections.unmodifiableSortedSet(new TreeSet<>(excludeLayers));
    }

    public static SelectionOptions defaults() {
        return new SelectionOptions(DEFAULT_TOP_K, DEFAULT_EXCLUDE_LAYERS, true);
    }

    /**
     * Checks these options against a model of {@code layers} x {@code intermediateSize} neurons: every excluded
     * layer is one of its layers, at least one layer is left, and topK is at most the neurons of the included layers.
     *
     * @return these options
     * @throws IllegalArgumentException saying which option is out of range, and the range
     */
    public SelectionOptions checkFor(int layers, int intermediateSize) {
        for (int layer : excludeLayers) {
            if (layer >= layers) {
                throw new IllegalArgumentException("excluded layer " + layer + " is not a layer of the model (layers 0.."
                        + (layers - 1) + ")");
            }
        }
        int included = includedLayers(layers).size();
        if (included == 0) {
            throw new IllegalArgumentException("the excluded layers " + excludeLayers + " leave none of the model's " + layers
                    + " layers to rank");
        }
        long neurons = (long) included * intermediateSize;
        if (topK > neurons) {
            throw new IllegalArgumentException("topK " + topK + " is more than the " + neurons + " neurons of the ranked layers ("
                    + included + " of " + layers + " layers x " + intermediateSize + "): use 1.." + neurons);
        }
        return this;
    }

    /** The layers of a {@code layers}-layer model that these options rank. */
    public SortedSet<Integer> includedLayers(int layers) {
        SortedSet<Integer> included = new TreeSet<>();
        for (int layer = 0; layer < layers; layer++) {
            if (!excludeLayers.contains(layer)) {
                included.add(layer);
            }
        }
        return Collections.unmodifiableSortedSet(included);
    }
}
