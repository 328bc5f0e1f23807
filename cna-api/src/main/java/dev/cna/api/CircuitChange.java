package dev.cna.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * A change of steering-service's circuit registry: the data of one {@value #EVENT} event on {@code GET
 * /circuits/events} (and the gateway's {@code GET /api/circuits/events}).
 *
 * @param name              the circuit name
 * @param version           the version now in the registry; null = deleted
 * @param publishedAtMillis when the record was written to {@link Topics#CIRCUITS}, milliseconds since the epoch
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CircuitChange(String name, Long version, long publishedAtMillis) {
    /** The SSE event name. */
    public static final String EVENT = "circuit";
}
