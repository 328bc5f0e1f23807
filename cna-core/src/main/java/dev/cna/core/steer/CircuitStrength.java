package dev.cna.core.steer;

import dev.cna.core.circuit.Circuit;

/** A circuit and the factor its neurons are scaled by: 0 ablates, 1 changes nothing, above 1 amplifies. */
public record CircuitStrength(Circuit circuit, float multiplier) {
    public CircuitStrength {
        if (!Float.isFinite(multiplier)) {
            throw new IllegalArgumentException("multiplier of " + circuit.name() + " must be finite, got " + multiplier);
        }
    }
}
