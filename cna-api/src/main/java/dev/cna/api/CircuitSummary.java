package dev.cna.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.List;

/**
 * One circuit of steering-service's registry as {@code GET /circuits} lists it (and the gateway's {@code GET
 * /api/circuits}); the full definition is {@code cna.circuit/v1} (docs/schemas/circuit.v1.schema.json).
 *
 * @param name            the circuit (feature) name
 * @param version         the version in the registry, from 1
 * @param method          how it was made: {@code contrastive}, {@code relp} or {@code manual}
 * @param neurons         how many neurons it holds
 * @param neuronsPerLayer how many of them sit in each layer, index = layer (for pictures)
 * @param modelId         the model it was made for
 * @param createdAt       when it was made, ISO-8601
 * @param publishedAt     when this version was written to {@link Topics#CIRCUITS}, ISO-8601
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CircuitSummary(String name, long version, String method, int neurons, List<Integer> neuronsPerLayer,
                             String modelId, String createdAt, String publishedAt) {
}
