package dev.cna.steering;

import dev.cna.api.Problem;
import dev.cna.api.ProblemType;

/** The 503 answer for requests that arrive before the model and the registry are ready. */
final class Readiness {
    private Readiness() {}

    static void require(SteeringRuntime runtime) {
        if (!runtime.ready()) {
            String why = runtime.failure() != null ? "the service failed: " + runtime.failure()
                    : "the model is loading or the circuit registry is catching up";
            throw new ProblemException(Problem.of(ProblemType.NOT_READY, why), 5);
        }
    }
}
