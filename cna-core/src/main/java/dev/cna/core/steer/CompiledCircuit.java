package dev.cna.core.steer;

import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.CircuitNeuron;
import dev.cna.core.model.ModelConfig;

import java.util.Arrays;

/**
 * A circuit version checked against the running model and grouped by layer, done once per version so that
 * composing a request's {@link SteeringPlan} is only a merge of small index arrays.
 *
 * @param indices [layer] -> the circuit's neuron indices in that layer, ascending; empty where it has none
 */
public record CompiledCircuit(Circuit circuit, int[][] indices) {

    /** A compiled circuit with the factor its neurons get. */
    public record Scaled(CompiledCircuit compiled, float multiplier) {
        public Scaled {
            if (!Float.isFinite(multiplier)) {
                throw new IllegalArgumentException("multiplier of " + compiled.name() + " must be finite, got " + multiplier);
            }
        }
    }

    /**
     * @param fingerprint the running model's fingerprint
     * @throws ForeignCircuitException when the circuit was made on another model or does not fit its shape
     */
    public static CompiledCircuit compile(Circuit circuit, ModelConfig config, String fingerprint) {
        Circuit.Model m = circuit.model();
        if (!m.fingerprint().equals(fingerprint)) {
            throw new ForeignCircuitException("circuit " + circuit.name() + " was made on model " + m.id()
                    + " (fingerprint " + m.fingerprint() + "), not on the running model (" + fingerprint + ")");
        }
        if (m.layers() != config.layers() || m.intermediateSize() != config.intermediateSize()) {
            throw new ForeignCircuitException("circuit " + circuit.name() + " has the shape " + m.layers() + " x "
                    + m.intermediateSize() + ", the model " + config.layers() + " x " + config.intermediateSize());
        }
        int[] counts = new int[config.layers()];
        circuit.neurons().forEach(n -> counts[n.layer()]++);
        int[][] indices = new int[config.layers()][];
        for (int l = 0; l < indices.length; l++) {
            indices[l] = new int[counts[l]];
            counts[l] = 0;
        }
        for (CircuitNeuron n : circuit.neurons()) {
            indices[n.layer()][counts[n.layer()]++] = n.index();
        }
        for (int[] layer : indices) {
            Arrays.sort(layer);
        }
        return new CompiledCircuit(circuit, indices);
    }

    public String name() {
        return circuit.name();
    }

    public long version() {
        return circuit.version();
    }

    public Scaled times(float multiplier) {
        return new Scaled(this, multiplier);
    }
}
