package dev.cna.core.attribution;

import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.Neuron;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelFingerprint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * CNA's contrastive discovery (docs/method.md section 2) for one model: activations of positive and negative prompts
 * into an accumulator, then the top-k selection outside the model's universal-neuron blacklist.
 */
public final class ContrastiveAttribution {
    private final ActivationCollector collector;
    private final ModelConfig config;
    private final Circuit.Model model;
    /** Read or detected once: circuit() runs after every poll batch of the attribution service. */
    private Set<Neuron> blacklist;

    /**
     * @param modelId     the model's short id, written into circuits
     * @param fingerprint the model's fingerprint ({@link ModelFingerprint})
     */
    public ContrastiveAttribution(ActivationCollector collector, ModelConfig config, String modelId, String fingerprint) {
        this.collector = collector;
        this.config = config;
        this.model = new Circuit.Model(modelId, fingerprint, config.layers(), config.intermediateSize());
    }

    public Circuit.Model model() {
        return model;
    }

    public ContrastiveAccumulator newAccumulator(SelectionOptions options) {
        return new ContrastiveAccumulator(config.layers(), config.intermediateSize(), options.includedLayers(config.layers()));
    }

    /** Adds the prompts' last-token activations to the accumulator; progress counts prompts of both sides. */
    public void accumulate(ContrastiveAccumulator into, List<String> positive, List<String> negative, boolean chatTemplate,
                           IntConsumer progress) {
        boolean[] layers = new boolean[config.layers()];
        into.includedLayers().forEach(l -> layers[l] = true);
        collector.neurons(positive, chatTemplate, layers, progress, (i, a) -> into.addPositive(a));
        collector.neurons(negative, chatTemplate, layers,
                progress == null ? null : done -> progress.accept(positive.size() + done), (i, a) -> into.addNegative(a));
    }

    /** The model's universal neurons, detected once on neutral raw prompts and cached by fingerprint. */
    public synchronized Set<Neuron> blacklist() {
        if (blacklist != null) {
            return blacklist;
        }
        boolean[] all = new boolean[config.layers()];
        Arrays.fill(all, true);
        try {
            blacklist = UniversalNeuronDetector.cachedOrDetect(model.fingerprint(), prompts -> collector.neurons(prompts, false, all))
                    .neurons();
            return blacklist;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the blacklist cache", e);
        }
    }

    /** The circuit the accumulated sums select now. */
    public Circuit circuit(String name, long version, ContrastiveAccumulator sums, SelectionOptions options,
                           Circuit.Source source) {
        Set<Neuron> blacklist = options.useBlacklist() ? blacklist() : Set.of();
        CircuitSelector.Selection selection = CircuitSelector.select(sums.delta(), options, blacklist);
        return Circuit.contrastive(name, version, model, selection, sums.positiveCount(), sums.negativeCount(),
                Instant.now(), source);
    }
}
