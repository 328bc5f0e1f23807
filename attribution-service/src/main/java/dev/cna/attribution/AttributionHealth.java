package dev.cna.attribution;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.streams.KafkaStreams;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready once the model is loaded, Kafka Streams runs and no state store is being restored; live while Kafka Streams
 * has not failed (DOWN in ERROR or once stopped while it should run, so the orchestrator restarts the service).
 */
public class AttributionHealth {
    /** The model is loaded, Kafka Streams runs (or rebalances after it ran) and no store is being restored. */
    static boolean ready(KafkaStreams streams, ModelHolder model, RestoreProgress restore) {
        KafkaStreams.State state = streams.state();
        return model.isLoaded() && !restore.restoring()
                && (state == KafkaStreams.State.RUNNING || state == KafkaStreams.State.REBALANCING);
    }

    @Readiness
    @ApplicationScoped
    public static class Ready implements HealthCheck {
        @Inject
        KafkaStreams streams;
        @Inject
        ModelHolder model;
        @Inject
        RestoreProgress restore;

        @Override
        public HealthCheckResponse call() {
            return HealthCheckResponse.named("attribution-state")
                    .status(ready(streams, model, restore))
                    .withData("modelLoaded", model.isLoaded())
                    .withData("streams", streams.state().name())
                    .withData("restoring", restore.restoring())
                    .build();
        }
    }

    @Liveness
    @ApplicationScoped
    public static class Live implements HealthCheck {
        @Inject
        KafkaStreams streams;

        @Override
        public HealthCheckResponse call() {
            KafkaStreams.State state = streams.state();
            boolean live = state != KafkaStreams.State.ERROR && state != KafkaStreams.State.PENDING_ERROR
                    && state != KafkaStreams.State.NOT_RUNNING;
            return HealthCheckResponse.named("attribution-streams").status(live).withData("streams", state.name()).build();
        }
    }
}
