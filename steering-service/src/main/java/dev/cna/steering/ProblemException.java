package dev.cna.steering;

import dev.cna.api.Problem;
import dev.cna.api.ProblemType;

/** An error that becomes a problem answer ({@link Problem}) as it is, with Retry-After where the client should wait. */
public final class ProblemException extends RuntimeException {
    private final Problem problem;
    private final Integer retryAfterSeconds;

    public ProblemException(Problem problem) {
        this(problem, null);
    }

    public ProblemException(Problem problem, Integer retryAfterSeconds) {
        super(problem.detail());
        this.problem = problem;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static ProblemException badRequest(String detail) {
        return new ProblemException(Problem.of(ProblemType.INVALID_REQUEST, detail));
    }

    public Problem problem() {
        return problem;
    }

    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
