package dev.cna.core.circuit;

/** A circuit document that cannot be read: malformed JSON, a wrong or missing field, or neurons that do not fit. */
public final class InvalidCircuitException extends IllegalArgumentException {
    public InvalidCircuitException(String message, Throwable cause) {
        super(message, cause);
    }
}
