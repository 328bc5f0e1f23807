package dev.cna.attribution;

import java.util.List;

/** What GET /features/{name} shows: an immutable copy, published by the pipeline thread. */
public record FeatureView(String name, long events, long positive, long negative, long version, boolean hasCircuit,
                          int neurons, int topK, List<Integer> excludeLayers, String lastUpdate, int partition, long backlog,
                          boolean rebuilding) {
}
