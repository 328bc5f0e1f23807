package dev.cna.core.steer;

/** A circuit that belongs to another model (fingerprint or shape), so it must not steer this one. */
public final class ForeignCircuitException extends IllegalArgumentException {
    public ForeignCircuitException(String message) {
        super(message);
    }
}
