package dev.cna.api;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A {@code cna.prompt-pairs/v1} event, the value of a {@link Topics#PROMPT_PAIRS} record (key = feature); the JSON
 * follows docs/schemas/prompt-pairs.v1.schema.json field for field. Absent fields are null and left out of the JSON;
 * unknown top-level fields are ignored on reading, as the schema says.
 *
 * @param schema       always {@link #SCHEMA}
 * @param id           idempotency key, unique per feature (the gateway makes a random UUID)
 * @param type         {@link Type#PAIRS} adds prompts, {@link Type#RESET} clears the feature and deletes its circuit;
 *                     absent = pairs
 * @param feature      the feature (circuit) name, {@code [A-Za-z0-9][A-Za-z0-9._-]{0,127}}; equals the record key
 * @param positive     prompts that show the behavior (pairs only, at least one)
 * @param negative     contrasting prompts that do not (pairs only, at least one)
 * @param chatTemplate format each prompt as one user turn with the model's chat template; absent = true
 * @param options      selection options from this event on, null when the event sets none
 * @param producedAt   when the producer made the event, ISO-8601 (informational)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record PromptPairEvent(String schema, String id, Type type, String feature, List<String> positive,
                              List<String> negative, Boolean chatTemplate, Options options, String producedAt) {
    public static final String SCHEMA = "cna.prompt-pairs/v1";

    @JsonCreator
    public PromptPairEvent {
    }

    /**
     * An event as a consumer holds it after validation (attribution-service's shape): the schema set, chatTemplate
     * resolved, the options as two nullable values.
     *
     * @param topK          null when the event does not set it
     * @param excludeLayers null when the event does not set it
     */
    public PromptPairEvent(String id, Type type, String feature, List<String> positive, List<String> negative,
                           boolean chatTemplate, Integer topK, Set<Integer> excludeLayers, String producedAt) {
        this(SCHEMA, id, type, feature, positive, negative, chatTemplate,
                topK == null && excludeLayers == null ? null
                        : new Options(topK, excludeLayers == null ? null : List.copyOf(excludeLayers)),
                producedAt);
    }

    /** The kind of event; JSON {@code "pairs"} or {@code "reset"}. */
    public enum Type {
        @JsonProperty("pairs") PAIRS,
        @JsonProperty("reset") RESET
    }

    /**
     * Selection options; only those set, since the last event that sets one wins. Unknown options are refused, as the
     * schema says ({@code additionalProperties: false}).
     *
     * @param topK          neurons kept in the circuit, >= 1 (default 200)
     * @param excludeLayers layers whose neurons are never selected, distinct, >= 0 (default [0, 1])
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = false)
    public record Options(Integer topK, List<Integer> excludeLayers) {
    }

    /** {@code options.topK}, or null when the event does not set it. */
    @JsonIgnore
    public Integer topK() {
        return options == null ? null : options.topK();
    }

    /** {@code options.excludeLayers} as a sorted set, or null when the event does not set it. */
    @JsonIgnore
    public Set<Integer> excludeLayers() {
        return options == null || options.excludeLayers() == null ? null : new TreeSet<>(options.excludeLayers());
    }
}
