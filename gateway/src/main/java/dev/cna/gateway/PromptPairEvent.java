package dev.cna.gateway;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * A {@code cna.prompt-pairs/v1} event as the gateway produces it (docs/schemas/prompt-pairs.v1.schema.json).
 * A reset has no prompts, chatTemplate or options; absent fields are left out of the JSON.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PromptPairEvent(String schema, String id, String type, String feature, List<String> positive,
                              List<String> negative, Boolean chatTemplate, Options options, String producedAt) {
    public static final String SCHEMA = "cna.prompt-pairs/v1";

    /** Selection options; only those the request set, since the last event that sets one wins. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Options(Integer topK, List<Integer> excludeLayers) {
    }
}
