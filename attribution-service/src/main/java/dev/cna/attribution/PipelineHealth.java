package dev.cna.attribution;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready once the model is loaded and the state is rebuilt; live while the pipeline thread runs (DOWN once it has ended
 * for any reason while it should run, so the orchestrator restarts the service).
 */
public class PipelineHealth {
    @Readiness
    @ApplicationScoped
    public static class Ready implements HealthCheck {
        @Inject
        Pipeline pipeline;
        @Inject
        ModelHolder model;

        @Override
        public HealthCheckResponse call() {
            return HealthCheckResponse.named("attribution-state")
                    .status(model.isLoaded() && pipeline.caughtUp() && pipeline.alive())
                    .withData("modelLoaded", model.isLoaded())
                    .withData("rebuilt", pipeline.caughtUp())
                    .withData("backlog", pipeline.backlog())
                    .build();
        }
    }

    @Liveness
    @ApplicationScoped
    public static class Live implements HealthCheck {
        @Inject
        Pipeline pipeline;

        @Override
        public HealthCheckResponse call() {
            Throwable failure = pipeline.failure();
            boolean live = pipeline.live();
            var b = HealthCheckResponse.named("attribution-pipeline").status(live);
            if (failure != null) {
                b.withData("failure", failure.toString());
            } else if (!live) {
                b.withData("failure", "the pipeline thread has stopped");
            }
            return b.build();
        }
    }
}
