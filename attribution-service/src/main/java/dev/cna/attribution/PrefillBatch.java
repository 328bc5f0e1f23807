package dev.cna.attribution;

import dev.cna.api.PromptPairEvent;
import dev.cna.core.attribution.ActivationCollector;
import dev.cna.core.attribution.ContrastiveAccumulator;
import dev.cna.core.attribution.ContrastiveAttribution;
import dev.cna.core.attribution.SelectionOptions;
import io.quarkus.logging.Log;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Runs the prompts of many {@code pairs} events through batched prefills ({@link ActivationCollector}: sorted by length,
 * batches of at most its batch size and padded tokens) and routes each prompt's last-token activations, every layer,
 * to a temporary accumulator of its feature. Groups hold at most {@link #GROUP_FEATURES} features. If a group's
 * prefill throws, each of its events runs alone, in order: the one that fails is reported with the reason
 * ({@code processing-failed}), the others are applied exactly once. An event whose options, combined with its
 * feature's, are invalid is judged on the state the events before it leave ({@code invalid-option}). The outcome is
 * what applying the events one by one in order gives.
 *
 * <p>The model is shared by every stream thread of the process: its passes run one at a time (a lock on the model).
 */
final class PrefillBatch {
    /** Most features whose temporary sums one batched prefill holds (about 1.5 MB each on the default model). */
    static final int GROUP_FEATURES = 16;

    /** Where the outcome goes, in event order per feature. */
    interface Sink {
        /** The event was applied; {@link #sums} follows for its group. */
        void applied(RawRecord raw, PromptPairEvent event);

        /** A group's (or a lone event's) activations for one feature, to be added to its sums. */
        void sums(String feature, ContrastiveAccumulator sums);

        /** The event cannot be applied: it goes to the DLQ. */
        void failed(RawRecord raw, BadEventException why);
    }

    /** A {@code pairs} event waiting for its prefill. */
    record Pending(RawRecord raw, PromptPairEvent event) {
    }

    private final ModelHolder model;
    private final EventParser parser;
    private final Optional<String> faultPrompt;
    private final boolean[] allLayers;
    private final Runnable onPrompts;

    /**
     * @param faultPrompt test-only: a prompt equal to it fails in the middle of its batch
     * @param onPrompts   called once per prompt run through the model (a counter)
     */
    PrefillBatch(ModelHolder model, EventParser parser, Optional<String> faultPrompt, Runnable onPrompts) {
        this.model = model;
        this.parser = parser;
        this.faultPrompt = faultPrompt;
        this.onPrompts = onPrompts;
        this.allLayers = new boolean[model.model().config().layers()];
        Arrays.fill(allLayers, true);
    }

    /** Runs the events; {@code current} gives a feature's options as the events applied so far left them. */
    void run(List<Pending> pending, Function<String, FeatureMeta> current, Sink sink) {
        int from = 0;
        while (from < pending.size()) {
            Set<String> names = new HashSet<>();
            Map<String, FeatureMeta> projected = new HashMap<>(); // each feature's options as the group's events set them
            int to = from;
            boolean invalidNext = false;
            while (to < pending.size() && (names.size() < GROUP_FEATURES || names.contains(pending.get(to).event().feature()))) {
                PromptPairEvent e = pending.get(to).event();
                FeatureMeta f = projected.computeIfAbsent(e.feature(), current);
                try {
                    checkOptions(f, e);
                } catch (BadEventException bad) {
                    invalidNext = true;
                    break;
                }
                projected.put(e.feature(), f.withOptionsOf(e));
                names.add(e.feature());
                to++;
            }
            List<Pending> group = pending.subList(from, to);
            if (group.size() == 1 || (group.size() > 1 && !runTogether(group, sink))) {
                group.forEach(p -> runAlone(p, current, sink));
            }
            if (invalidNext) {
                runAlone(pending.get(to), current, sink); // checked against the state the group left: dead-lettered with the reason
                to++;
            }
            from = to;
        }
    }

    /** Runs a group in one batched prefill; false (nothing reported) when it failed. */
    private boolean runTogether(List<Pending> group, Sink sink) {
        Map<String, ContrastiveAccumulator> sums = new HashMap<>();
        try {
            collect(group, sums);
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError failed) {
            Log.warnf("a batch of %d events failed (%s); running each alone", group.size(), failed.toString());
            return false;
        }
        group.forEach(p -> sink.applied(p.raw(), p.event()));
        sums.forEach(sink::sums);
        return true;
    }

    private void runAlone(Pending p, Function<String, FeatureMeta> current, Sink sink) {
        Map<String, ContrastiveAccumulator> sums = new HashMap<>();
        try {
            checkOptions(current.apply(p.event().feature()), p.event());
            collect(List.of(p), sums);
        } catch (BadEventException bad) {
            sink.failed(p.raw(), bad);
            return;
        } catch (RuntimeException | OutOfMemoryError | StackOverflowError failed) {
            Log.warnf(failed, "an event failed");
            sink.failed(p.raw(), new BadEventException(ErrorClass.PROCESSING_FAILED,
                    failed.getMessage() == null ? failed.toString() : failed.getMessage()));
            return;
        }
        sink.applied(p.raw(), p.event());
        sums.forEach(sink::sums);
    }

    /** The event's options combined with the feature's current ones (the last event that sets one wins). */
    private void checkOptions(FeatureMeta f, PromptPairEvent e) throws BadEventException {
        if (e.topK() != null || e.excludeLayers() != null) {
            parser.checkOptions(e.topK() != null ? e.topK() : f.topK(),
                    e.excludeLayers() != null ? e.excludeLayers() : Set.copyOf(f.excludeLayers()));
        }
    }

    /** The prompts' activations into one temporary accumulator per feature (every layer: exclusion is a selection option). */
    private void collect(List<Pending> group, Map<String, ContrastiveAccumulator> sums) {
        ActivationCollector collector = model.collector();
        ContrastiveAttribution attribution = model.attribution();
        for (boolean chat : new boolean[] {true, false}) {
            List<String> pos = new ArrayList<>();
            List<ContrastiveAccumulator> posOwner = new ArrayList<>();
            List<String> neg = new ArrayList<>();
            List<ContrastiveAccumulator> negOwner = new ArrayList<>();
            for (Pending p : group) {
                if (p.event().chatTemplate() == chat) {
                    ContrastiveAccumulator into = sums.computeIfAbsent(p.event().feature(),
                            name -> attribution.newAccumulator(new SelectionOptions(1, Set.of(), false)));
                    p.event().positive().forEach(s -> { pos.add(s); posOwner.add(into); });
                    p.event().negative().forEach(s -> { neg.add(s); negOwner.add(into); });
                }
            }
            if (!pos.isEmpty()) {
                synchronized (model) {
                    collector.neurons(pos, chat, allLayers, null, (i, a) -> {
                        injectFault(pos.get(i));
                        onPrompts.run();
                        posOwner.get(i).addPositive(a);
                    });
                    collector.neurons(neg, chat, allLayers, null, (i, a) -> {
                        injectFault(neg.get(i));
                        onPrompts.run();
                        negOwner.get(i).addNegative(a);
                    });
                }
            }
        }
    }

    /** Test-only (cna.attribution.fault.prompt): a prompt equal to the setting fails in the middle of its batch. */
    private void injectFault(String prompt) {
        if (faultPrompt.isPresent() && faultPrompt.get().equals(prompt)) {
            throw new IllegalStateException("injected fault: the prompt equals cna.attribution.fault.prompt (test-only setting)");
        }
    }
}
