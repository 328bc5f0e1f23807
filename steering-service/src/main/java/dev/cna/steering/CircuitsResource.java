package dev.cna.steering;

import dev.cna.core.cna.Circuit;
import dev.cna.core.cna.CircuitJson;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.MultiEmitter;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;

/** The registry as this instance sees it: summaries, full definitions, and a stream of changes. */
@Path("/circuits")
@Produces(MediaType.APPLICATION_JSON)
public class CircuitsResource {
    private final SteeringRuntime runtime;
    private final Duration heartbeat;

    CircuitsResource(SteeringRuntime runtime,
                     @ConfigProperty(name = "cna.steering.events-heartbeat", defaultValue = "15s") Duration heartbeat) {
        this.runtime = runtime;
        this.heartbeat = heartbeat;
    }

    /**
     * @param neuronsPerLayer how many of the circuit's neurons sit in each layer (for pictures)
     * @param publishedAt     when this version was written to Kafka
     */
    public record Summary(String name, long version, String method, int neurons, int[] neuronsPerLayer, String modelId,
                          String createdAt, String publishedAt) {
        static Summary of(CircuitRegistry.Entry e) {
            Circuit c = e.compiled().circuit();
            int[][] indices = e.compiled().indices();
            int[] perLayer = new int[indices.length];
            for (int l = 0; l < indices.length; l++) {
                perLayer[l] = indices[l].length;
            }
            return new Summary(c.name(), c.version(), c.method().name().toLowerCase(), c.neurons().size(), perLayer,
                    c.model().id(), c.createdAt(), Instant.ofEpochMilli(e.publishedAtMillis()).toString());
        }
    }

    @GET
    public List<Summary> list() {
        Readiness.require(runtime);
        return runtime.registry().all().stream().map(Summary::of).sorted(Comparator.comparing(Summary::name)).toList();
    }

    @GET
    @Path("{name}")
    public String get(@PathParam("name") String name) {
        Readiness.require(runtime);
        return runtime.registry().get(name).map(e -> CircuitJson.write(e.compiled().circuit()))
                .orElseThrow(() -> new ProblemException(Problem.of(404, "unknown-circuit", "Unknown circuit",
                        "circuit " + name + " is not in the registry")));
    }

    /**
     * Every circuit now (one {@code circuit} event each), then each change as it happens (deleted: version null).
     * A comment opens the stream, so a client gets the headers before the first circuit exists, and another
     * follows every {@code cna.steering.events-heartbeat}, so proxies do not close a quiet stream as idle.
     */
    @GET
    @Path("events")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public Multi<OutboundSseEvent> events(@Context Sse sse) {
        Readiness.require(runtime);
        CircuitRegistry registry = runtime.registry();
        Multi<OutboundSseEvent> changes = Multi.createFrom().emitter((MultiEmitter<? super OutboundSseEvent> emitter) -> {
            emitter.emit(sse.newEventBuilder().comment("circuits").build());
            Consumer<CircuitRegistry.Change> listener = change -> emitter.emit(event(sse, change));
            registry.addListener(listener);
            emitter.onTermination(() -> registry.removeListener(listener));
            registry.all().forEach(e -> emitter.emit(event(sse,
                    new CircuitRegistry.Change(e.compiled().name(), e.compiled().version(), e.publishedAtMillis()))));
        });
        Multi<OutboundSseEvent> heartbeats = Multi.createFrom().ticks().every(heartbeat)
                .map(tick -> sse.newEventBuilder().comment("heartbeat").build());
        return Multi.createBy().merging().streams(changes, heartbeats);
    }

    private static OutboundSseEvent event(Sse sse, CircuitRegistry.Change change) {
        return sse.newEventBuilder().name("circuit").mediaType(MediaType.APPLICATION_JSON_TYPE).data(CircuitRegistry.Change.class, change).build();
    }
}
