package dev.cna.gateway;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** Where steering-service is and how the gateway talks to it ({@code cna.steering.*}). */
@ConfigMapping(prefix = "cna.steering")
public interface SteeringConfig {
    @WithDefault("http://localhost:8082")
    String url();

    /** Connections to steering-service; every open stream holds one, requests beyond wait for a free one. */
    @WithDefault("256")
    int maxConnections();

    @WithDefault("2s")
    Duration connectTimeout();

    /** Longest silence on a plain (non-streaming) request; streams have none, a queued request may wait long. */
    @WithDefault("10s")
    Duration requestTimeout();
}
