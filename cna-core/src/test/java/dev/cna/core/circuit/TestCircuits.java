package dev.cna.core.circuit;

import dev.cna.core.model.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/** Hand-made circuits for tests, here and in the services' tests. */
public final class TestCircuits {
    public static final String FINGERPRINT = "0123456789abcdef".repeat(4);

    private TestCircuits() {}

    /** A manual circuit, version 1, for a model of the given shape; neurons are (layer, index, delta) triples. */
    public static Circuit circuit(String name, String fingerprint, int layers, int intermediate, double[]... neurons) {
        return circuit(name, 1, fingerprint, layers, intermediate, neurons);
    }

    public static Circuit circuit(String name, long version, String fingerprint, int layers, int intermediate, double[]... neurons) {
        List<CircuitNeuron> list = new ArrayList<>();
        for (double[] n : neurons) {
            list.add(new CircuitNeuron((int) n[0], (int) n[1], n[2]));
        }
        list.sort(CircuitNeuron.RANKING);
        return new Circuit(Circuit.SCHEMA, name, version, new Circuit.Model("synthetic", fingerprint, layers, intermediate),
                Circuit.Method.MANUAL, list, new Circuit.Stats(0, 0, list.size(), List.of(), 0), "2026-11-24T10:15:30Z", null);
    }

    public static Circuit circuit(String name, ModelConfig c, double[]... neurons) {
        return circuit(name, FINGERPRINT, c.layers(), c.intermediateSize(), neurons);
    }

    /** A quarter of every layer's neurons: strong enough to move greedy tokens on a synthetic model. */
    public static Circuit wide(String name, long version, ModelConfig c) {
        List<double[]> neurons = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            for (int i = 0; i < c.intermediateSize(); i += 4) {
                neurons.add(new double[] {l, i, 1.0 + i});
            }
        }
        return circuit(name, version, FINGERPRINT, c.layers(), c.intermediateSize(), neurons.toArray(double[][]::new));
    }
}
