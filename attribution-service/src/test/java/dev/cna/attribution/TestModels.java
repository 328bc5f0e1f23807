package dev.cna.attribution;

import dev.cna.core.attribution.ActivationCollector;
import dev.cna.core.attribution.ContrastiveAccumulator;
import dev.cna.core.attribution.ContrastiveAttribution;
import dev.cna.core.attribution.SelectionOptions;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.runtime.torch.WeightStorage;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The default model as the service holds it, built by hand for tests that run pipelines outside CDI. */
final class TestModels {
    private TestModels() {}

    /** The default model, f32, batches of 16, with the given memory budget ("2g" is the service's default); not loaded. */
    static ModelHolder defaultModel(String memoryBudget) {
        ModelHolder m = new ModelHolder();
        m.model = "default";
        m.weights = WeightStorage.F32;
        m.batchSize = 16;
        m.memoryBudget = memoryBudget;
        return m;
    }

    /** cna-core on its own (no Kafka, no service code): what an uninterrupted service run must publish, version 1. */
    static Circuit direct(LoadedModel m, String feature, List<String> positive, List<String> negative, SelectionOptions options) {
        ContrastiveAttribution attribution = new ContrastiveAttribution(
                new ActivationCollector(m.backend(), m.tokenizer(), 16), m.config(), m.id(), m.fingerprint());
        ContrastiveAccumulator acc = attribution.newAccumulator(options);
        attribution.accumulate(acc, positive, negative, true, null);
        return attribution.circuit(feature, 1, acc, options, null);
    }

    /** The same neurons in the same order, deltas to 1e-4, the same counts, model and exclusions. */
    static void assertSameCircuit(Circuit expected, Circuit actual) {
        assertEquals(expected.neurons().stream().map(n -> n.neuron()).toList(), actual.neurons().stream().map(n -> n.neuron()).toList(),
                "same neurons in the same order");
        for (int k = 0; k < expected.neurons().size(); k++) {
            assertEquals(expected.neurons().get(k).delta(), actual.neurons().get(k).delta(), 1e-4);
        }
        assertEquals(expected.stats().positiveCount(), actual.stats().positiveCount());
        assertEquals(expected.stats().negativeCount(), actual.stats().negativeCount());
        assertEquals(expected.model(), actual.model());
        assertEquals(expected.stats().excludedLayers(), actual.stats().excludedLayers());
        assertEquals(expected.stats().blacklistedCount(), actual.stats().blacklistedCount());
    }
}
