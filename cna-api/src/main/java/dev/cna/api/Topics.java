package dev.cna.api;

import java.util.Map;

/**
 * The platform's Kafka topics and their configs (DESIGN.md, Kafka; deploy/base/topics.yaml declares the same for
 * Strimzi). Config keys and values are Kafka's own topic config strings ({@code TopicConfig}), so a client passes
 * them to {@code NewTopic.configs} as they are. Partition counts are left to whoever creates a topic.
 */
public final class Topics {
    private Topics() {}

    /** Prompt-pair events ({@link PromptPairEvent}, {@code cna.prompt-pairs/v1}); key = feature. */
    public static final String PROMPT_PAIRS = "cna.prompt-pairs";
    /** Circuit versions ({@code cna.circuit/v1}, docs/schemas/circuit.v1.schema.json); key = circuit name, null = deleted. */
    public static final String CIRCUITS = "cna.circuits";
    /** Prompt-pair events attribution-service could not apply, with the reason in headers. */
    public static final String DLQ = "cna.prompt-pairs.dlq";

    /** Kafka's {@code cleanup.policy}. */
    public static final String CLEANUP_POLICY = "cleanup.policy";
    /** Kafka's {@code retention.ms}: milliseconds a record is kept, -1 = forever. */
    public static final String RETENTION_MS = "retention.ms";
    public static final String CLEANUP_DELETE = "delete";
    public static final String CLEANUP_COMPACT = "compact";
    public static final String RETAIN_FOREVER = "-1";

    /** The source of truth: attribution rebuilds its state by replaying it from the beginning, so it is kept forever. */
    public static final Map<String, String> PROMPT_PAIRS_CONFIG =
            Map.of(CLEANUP_POLICY, CLEANUP_DELETE, RETENTION_MS, RETAIN_FOREVER);
    /** Compacted: the newest version of each circuit survives, a null value deletes it. */
    public static final Map<String, String> CIRCUITS_CONFIG = Map.of(CLEANUP_POLICY, CLEANUP_COMPACT);
    /**
     * Kept as long as {@link #PROMPT_PAIRS}: attribution reads the DLQ at start-up so that a replayed bad record is
     * not dead-lettered twice.
     */
    public static final Map<String, String> DLQ_CONFIG = Map.of(CLEANUP_POLICY, CLEANUP_DELETE, RETENTION_MS, RETAIN_FOREVER);

    /** Every platform topic with its config. */
    public static final Map<String, Map<String, String>> CONFIGS =
            Map.of(PROMPT_PAIRS, PROMPT_PAIRS_CONFIG, CIRCUITS, CIRCUITS_CONFIG, DLQ, DLQ_CONFIG);
}
