package dev.cna.attribution;

import dev.cna.api.PromptPairEvent;
import dev.cna.core.attribution.SelectionOptions;
import dev.cna.core.circuit.Circuit;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One feature's state apart from its sums (those are in {@link FeatureStore}'s per-layer records): options, counts,
 * the last version published and the selection live on cna.circuits. Kept across resets, so versions go on from the
 * last one even after a tombstone has been compacted away.
 *
 * @param events     events applied, ever (resets included)
 * @param positive   positive prompts in the sums (0 after a reset)
 * @param negative   negative prompts in the sums
 * @param version    the last version published, 0 before the first
 * @param selection  the live circuit's neurons in order ({@code layer:index}), empty when there is none (new or reset)
 * @param fingerprint the model fingerprint of the live circuit, null when there is none
 * @param source     topic/partition/offset of the last event applied, null before the first
 * @param lastUpdate when the state last changed, ISO-8601
 * @param partition  the cna.prompt-pairs partition of the feature
 */
public record FeatureMeta(String name, int topK, List<Integer> excludeLayers, long events, long positive, long negative,
                          long version, List<String> selection, String fingerprint, Circuit.Source source, String lastUpdate,
                          int partition) {
    public FeatureMeta {
        excludeLayers = List.copyOf(excludeLayers);
        selection = List.copyOf(selection);
    }

    /** A feature no event has touched yet: default options, no sums, no circuit. */
    static FeatureMeta fresh(String name, int partition) {
        return new FeatureMeta(name, SelectionOptions.DEFAULT_TOP_K, List.copyOf(new TreeSet<>(SelectionOptions.DEFAULT_EXCLUDE_LAYERS)),
                0, 0, 0, 0, List.of(), null, null, null, partition);
    }

    SelectionOptions options() {
        return new SelectionOptions(topK, Set.copyOf(excludeLayers), true);
    }

    boolean hasCircuit() {
        return !selection.isEmpty();
    }

    /** The event's options over these (the last event that sets an option wins). */
    FeatureMeta withOptionsOf(PromptPairEvent e) {
        return new FeatureMeta(name, e.topK() != null ? e.topK() : topK,
                e.excludeLayers() != null ? List.copyOf(new TreeSet<>(e.excludeLayers())) : excludeLayers, events, positive, negative,
                version, selection, fingerprint, source, lastUpdate, partition);
    }

    /** After a pairs event was applied: its options, its prompts counted, its source. */
    FeatureMeta applied(PromptPairEvent e, Circuit.Source from, String now) {
        FeatureMeta o = withOptionsOf(e);
        return new FeatureMeta(name, o.topK, o.excludeLayers, events + 1, positive + e.positive().size(), negative + e.negative().size(),
                version, selection, fingerprint, from, now, partition);
    }

    /** After a reset: no sums; options and the last version kept; the circuit is still live until its tombstone. */
    FeatureMeta reset(Circuit.Source from, String now) {
        return new FeatureMeta(name, topK, excludeLayers, events + 1, 0, 0, version, selection, fingerprint, from, now, partition);
    }

    /** After a circuit was published. */
    FeatureMeta published(Circuit c) {
        List<String> neurons = c.neurons().stream().map(n -> n.neuron().layer() + ":" + n.neuron().index()).toList();
        return new FeatureMeta(name, topK, excludeLayers, events, positive, negative, c.version(), neurons, c.model().fingerprint(),
                source, lastUpdate, partition);
    }

    /** After a tombstone was published. */
    FeatureMeta deleted() {
        return new FeatureMeta(name, topK, excludeLayers, events, positive, negative, version, List.of(), null, source, lastUpdate,
                partition);
    }

    /** Whether the circuit selects the same neurons in the same order, on the same model, as the live one. */
    boolean sameSelection(Circuit c) {
        return hasCircuit() && c.model().fingerprint().equals(fingerprint) && published(c).selection.equals(selection);
    }
}
