package dev.cna.steering;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;

/** Live while the decode loop runs: a loop stopped by an Error leaves the service idle, so Kubernetes must restart it. */
@Liveness
@ApplicationScoped
public class LivenessCheck implements HealthCheck {
    private final SteeringRuntime runtime;

    LivenessCheck(SteeringRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public HealthCheckResponse call() {
        Scheduler s = runtime.scheduler();
        String failure = s == null ? null : s.failure();
        HealthCheckResponseBuilder b = HealthCheckResponse.named("steering-decode-loop").status(failure == null);
        if (failure != null) {
            b.withData("failure", failure);
        }
        return b.build();
    }
}
