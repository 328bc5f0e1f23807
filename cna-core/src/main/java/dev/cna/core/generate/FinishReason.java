package dev.cna.core.generate;

/** Why a reply ended. */
public enum FinishReason {
    /** End-of-sequence token or a stop string. */
    STOP,
    /** The token budget (max tokens or the context) ran out. */
    LENGTH,
    /** The listener asked to stop. */
    CANCELLED
}
