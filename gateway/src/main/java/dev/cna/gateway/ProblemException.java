package dev.cna.gateway;

import dev.cna.api.Problem;
import dev.cna.api.ProblemType;

import java.time.Duration;

/**
 * An error the gateway answers with a {@link Problem}: one it detects itself (validation, auth, rate limit, upstream
 * down) or one steering-service answered; {@link ProblemExceptionMapper} adds the request path.
 *
 * @param retryAfter null, or the Retry-After the client should honour (429, 503)
 */
public class ProblemException extends RuntimeException {
    private final Problem problem;
    private final Duration retryAfter;

    public ProblemException(Problem problem, Duration retryAfter) {
        super(problem.detail(), null, false, false); // expected errors: no stack trace
        this.problem = problem;
        this.retryAfter = retryAfter;
    }

    public ProblemException(ProblemType type, String detail, Duration retryAfter) {
        this(Problem.of(type, detail), retryAfter);
    }

    public ProblemException(ProblemType type, String detail) {
        this(type, detail, null);
    }

    public static ProblemException invalid(String detail) {
        return new ProblemException(ProblemType.INVALID_REQUEST, detail);
    }

    public Problem problem() {
        return problem;
    }

    public Duration retryAfter() {
        return retryAfter;
    }
}
