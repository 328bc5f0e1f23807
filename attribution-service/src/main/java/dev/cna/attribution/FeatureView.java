package dev.cna.attribution;

import java.util.List;

/**
 * What GET /features shows of one feature, from the state store of the instance that owns it.
 *
 * @param events    events applied, ever
 * @param positive  positive prompts in the sums now (0 after a reset)
 * @param version   the last version published, 0 before the first (goes on after a reset)
 * @param neurons   neurons of the live circuit, 0 when none
 * @param partition its cna.prompt-pairs partition
 * @param instance  the application.server (host:port) of the instance that owns it
 */
public record FeatureView(String name, long events, long positive, long negative, long version, boolean hasCircuit,
                          int neurons, int topK, List<Integer> excludeLayers, String lastUpdate, int partition, String instance) {
    static FeatureView of(FeatureMeta m, String instance) {
        return new FeatureView(m.name(), m.events(), m.positive(), m.negative(), m.version(), m.hasCircuit(), m.selection().size(),
                m.topK(), m.excludeLayers(), m.lastUpdate(), m.partition(), instance);
    }
}
