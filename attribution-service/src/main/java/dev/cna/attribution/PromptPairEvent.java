package dev.cna.attribution;

import java.util.List;
import java.util.Set;

/**
 * A validated {@code cna.prompt-pairs/v1} event (docs/design.md section 3; docs/schemas/prompt-pairs.v1.schema.json).
 *
 * @param topK          null when the event does not set it
 * @param excludeLayers null when the event does not set it
 */
public record PromptPairEvent(String id, Type type, String feature, List<String> positive, List<String> negative,
                              boolean chatTemplate, Integer topK, Set<Integer> excludeLayers, String producedAt) {
    public static final String SCHEMA = "cna.prompt-pairs/v1";

    public enum Type { PAIRS, RESET }
}
