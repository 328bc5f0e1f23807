package dev.cna.attribution;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.core.attribution.ContrastiveAccumulator;
import org.apache.kafka.streams.state.KeyValueStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * The per-feature state of one task, in two persistent stores with changelogs: {@value #META} (feature -> its
 * {@link FeatureMeta} as JSON) and {@value #SUMS} ({@code feature/layer} -> that layer's sums, {@link AccumulatorSlices}),
 * so no changelog record comes near Kafka's 1 MiB limit whatever the model.
 */
final class FeatureStore {
    static final String META = "attribution-features";
    static final String SUMS = "attribution-sums";
    static final ObjectMapper JSON = new ObjectMapper();

    private final KeyValueStore<String, byte[]> meta;
    private final KeyValueStore<String, byte[]> sums;
    private final int layers;
    private final int intermediateSize;

    FeatureStore(KeyValueStore<String, byte[]> meta, KeyValueStore<String, byte[]> sums, int layers, int intermediateSize) {
        this.meta = meta;
        this.sums = sums;
        this.layers = layers;
        this.intermediateSize = intermediateSize;
    }

    /** The feature's state, or null if no event has touched it. */
    FeatureMeta meta(String feature) {
        return readMeta(meta.get(feature));
    }

    void putMeta(FeatureMeta m) {
        try {
            meta.put(m.name(), JSON.writeValueAsBytes(m));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The feature's sums with the counts of its meta, or null when it has none (new, or reset). */
    ContrastiveAccumulator sums(FeatureMeta m) {
        Map<Integer, byte[]> slices = new HashMap<>();
        for (int layer = 0; layer < layers; layer++) {
            byte[] s = sums.get(key(m.name(), layer));
            if (s != null) {
                slices.put(layer, s);
            }
        }
        return slices.isEmpty() ? null : AccumulatorSlices.join(layers, intermediateSize, slices, m.positive(), m.negative());
    }

    /** Replaces the feature's sums; null deletes them. */
    void putSums(String feature, ContrastiveAccumulator acc) {
        if (acc == null) {
            for (int layer = 0; layer < layers; layer++) {
                sums.delete(key(feature, layer));
            }
            return;
        }
        AccumulatorSlices.split(acc).forEach((layer, slice) -> sums.put(key(feature, layer), slice));
    }

    static FeatureMeta readMeta(byte[] json) {
        if (json == null) {
            return null;
        }
        try {
            return JSON.readValue(json, FeatureMeta.class);
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable feature state", e);
        }
    }

    private static String key(String feature, int layer) {
        return feature + "/" + layer; // feature names never hold '/' (Circuit.NAME)
    }
}
