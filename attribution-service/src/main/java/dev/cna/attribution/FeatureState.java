package dev.cna.attribution;

import dev.cna.core.attribution.ContrastiveAccumulator;
import dev.cna.core.attribution.SelectionOptions;
import dev.cna.core.circuit.Circuit;

import java.util.HashSet;
import java.util.Set;

/**
 * One feature's state, owned by the pipeline thread. The accumulator records every layer, so excluded layers
 * are a selection option only and may change between events without losing sums.
 */
final class FeatureState {
    final String name;
    final Set<String> seenIds = new HashSet<>(); // kept across resets: an event id counts once, ever
    ContrastiveAccumulator sums;
    int topK = SelectionOptions.DEFAULT_TOP_K;
    Set<Integer> excludeLayers = SelectionOptions.DEFAULT_EXCLUDE_LAYERS;
    long events;
    long pairsSeen; // prompts, positive + negative, since the last reset
    long lastVersion; // the last version published (or read from cna.circuits at start-up)
    Circuit lastCircuit; // the live circuit on cna.circuits, null after a reset
    Circuit.Source lastSource;
    String lastUpdate; // when the state last changed (ISO-8601)
    int partition = -1;
    boolean dirty; // changed since its circuit was last computed
    boolean tombstonePending; // reset applied while nothing may be published yet

    FeatureState(String name) {
        this.name = name;
    }

    SelectionOptions options() {
        return new SelectionOptions(topK, excludeLayers, true);
    }
}
