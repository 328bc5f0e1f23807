package dev.cna.attribution;

import java.time.Duration;
import java.util.Optional;

/**
 * How a task batches and deduplicates.
 *
 * @param flushEvents    pending events that trigger a flush (one batched prefill for all of them)
 * @param flushInterval  the wall-clock punctuation that flushes whatever is pending
 * @param dedupRetention how long an event id is remembered: a producer retry or a re-send of the same id within it counts
 *                       once (keep it above the longest a producer may retry)
 * @param faultPrompt    test-only: a prompt equal to it fails in the middle of its batch (unset in production)
 */
record AttributionSettings(int flushEvents, Duration flushInterval, Duration dedupRetention, Optional<String> faultPrompt) {
    AttributionSettings {
        if (flushEvents < 1) {
            throw new IllegalArgumentException("cna.attribution.flush-events must be at least 1, got " + flushEvents);
        }
        if (flushInterval.isNegative() || flushInterval.isZero() || dedupRetention.isNegative() || dedupRetention.isZero()) {
            throw new IllegalArgumentException("cna.attribution.flush-interval and dedup-retention must be positive");
        }
    }
}
