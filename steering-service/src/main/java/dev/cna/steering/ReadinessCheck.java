package dev.cna.steering;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the model is loaded and the circuit registry has caught up with the topic. */
@Readiness
@ApplicationScoped
public class ReadinessCheck implements HealthCheck {
    private final SteeringRuntime runtime;

    ReadinessCheck(SteeringRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("steering").status(runtime.ready());
        if (runtime.failure() != null) {
            b.withData("failure", runtime.failure());
        }
        if (runtime.scheduler() != null) {
            Scheduler.Status s = runtime.scheduler().status();
            b.withData("queued", s.queued()).withData("running", s.running()).withData("circuits", runtime.registry().all().size());
        }
        return b.build();
    }
}
