package dev.cna.gateway;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Everything under {@code cna.gateway.*} (gateway/README.md, Config). */
@ConfigMapping(prefix = "cna.gateway")
public interface GatewayConfig {
    /** Properties file of API keys, lines {@code KEY=role[,role]}; a missing file adds no keys. */
    @WithDefault(".cna/keys.properties")
    Path keysFile();

    /** More API keys, {@code KEY:role+role} each (e.g. from a Kubernetes Secret as CNA_GATEWAY_KEYS). */
    Optional<List<String>> keys();

    RateLimit rateLimit();

    /** The longest prompt accepted, in UTF-16 chars. */
    @WithDefault("32000")
    int maxPromptChars();

    /** The most prompts (positive and negative, over all events; a reset counts as one) one ingest request may carry. */
    @WithDefault("1000")
    int maxPrompts();

    /** The most choices ({@code n}) one chat completion may ask for; each is a row of steering-service's batch. */
    @WithDefault("8")
    int maxChoices();

    /** The most prompts one {@code POST /v1/completions} may carry (steering-service scores them as one batch). */
    @WithDefault("64")
    int maxCompletionPrompts();

    /**
     * Milliseconds an ingest waits for Kafka (metadata, the write, the acknowledgement) before answering 503. Set in
     * application.properties, whose prompt-pairs channel has its producer give up after the same time.
     */
    long kafkaTimeoutMs();

    interface RateLimit {
        /** Tokens added per second to each key's bucket. */
        @WithDefault("10")
        double requestsPerSecond();

        /** Bucket size: the most requests a key can make at once after being idle. */
        @WithDefault("20")
        int burst();
    }
}
