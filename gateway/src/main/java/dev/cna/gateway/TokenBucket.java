package dev.cna.gateway;

/** A token bucket: {@code burst} tokens at most, refilled at {@code perSecond}; one request takes one token. */
final class TokenBucket {
    private final double perSecond;
    private final double burst;
    private double tokens;
    private long last;

    TokenBucket(double perSecond, int burst, long nowNanos) {
        this.perSecond = perSecond;
        this.burst = burst;
        this.tokens = burst;
        this.last = nowNanos;
    }

    /** Takes a token and returns 0, or returns how many nanoseconds until one is there (and takes nothing). */
    synchronized long take(long nowNanos) {
        tokens = Math.min(burst, tokens + (nowNanos - last) * perSecond / 1e9);
        last = nowNanos;
        if (tokens >= 1) {
            tokens -= 1;
            return 0;
        }
        return (long) Math.ceil((1 - tokens) / perSecond * 1e9);
    }
}
