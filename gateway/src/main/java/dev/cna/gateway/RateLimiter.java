package dev.cna.gateway;

import dev.cna.api.ProblemType;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One token bucket per caller (cna.gateway.rate-limit.*). Only authenticated callers get one, so the map is
 * bounded by the number of configured keys.
 */
@ApplicationScoped
public class RateLimiter {
    private final Map<String, TokenBucket> buckets = new ConcurrentHashMap<>();
    private final GatewayConfig.RateLimit limit;

    RateLimiter(GatewayConfig config) {
        this.limit = config.rateLimit();
    }

    /** Counts one request of the caller; 429 with Retry-After when its bucket is empty. */
    public void admit(Caller caller) {
        long now = System.nanoTime();
        long wait = buckets.computeIfAbsent(caller.id(), id -> new TokenBucket(limit.requestsPerSecond(), limit.burst(), now))
                .take(now);
        if (wait > 0) {
            throw new ProblemException(ProblemType.TOO_MANY_REQUESTS, "rate limit of this API key: "
                    + limit.requestsPerSecond() + " requests/s, burst " + limit.burst(), Duration.ofNanos(wait));
        }
    }
}
