package dev.cna.gateway;

import java.util.List;

/**
 * The 202 answer of an ingest: the event ids in request order and where the first one landed; the others follow
 * it in order on the same partition (one key, one partition).
 */
public record Ingested(List<String> ids, String feature, String topic, int partition, long offset) {
}
