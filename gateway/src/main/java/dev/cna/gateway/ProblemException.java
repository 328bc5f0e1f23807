package dev.cna.gateway;

import java.time.Duration;

/**
 * An error the gateway itself detects (validation, auth, rate limit, upstream down), already shaped as a
 * problem; {@link ProblemExceptionMapper} adds the request path.
 *
 * @param retryAfter null, or the Retry-After the client should honour (429, 503)
 */
public class ProblemException extends RuntimeException {
    private final int status;
    private final String title;
    private final Duration retryAfter;

    public ProblemException(int status, String title, String detail, Duration retryAfter) {
        super(detail, null, false, false); // expected errors: no stack trace
        this.status = status;
        this.title = title;
        this.retryAfter = retryAfter;
    }

    public static ProblemException invalid(String detail) {
        return new ProblemException(400, "Invalid Request", detail, null);
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public Duration retryAfter() {
        return retryAfter;
    }
}
