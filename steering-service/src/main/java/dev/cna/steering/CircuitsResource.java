package dev.cna.steering;

import dev.cna.api.CircuitChange;
import dev.cna.api.CircuitSummary;
import dev.cna.api.Problem;
import dev.cna.api.ProblemType;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.CircuitJson;
import io.smallrye.mutiny.Multi;
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
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

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

    @GET
    public List<CircuitSummary> list() {
        Readiness.require(runtime);
        return runtime.registry().all().stream().map(CircuitsResource::summary)
                .sorted(Comparator.comparing(CircuitSummary::name)).toList();
    }

    private static CircuitSummary summary(CircuitRegistry.Entry e) {
        Circuit c = e.compiled().circuit();
        List<Integer> perLayer = Arrays.stream(e.compiled().indices()).map(layer -> layer.length).toList();
        return new CircuitSummary(c.name(), c.version(), c.method().name().toLowerCase(Locale.ROOT), c.neurons().size(),
                perLayer, c.model().id(), c.createdAt(), Instant.ofEpochMilli(e.publishedAtMillis()).toString());
    }

    @GET
    @Path("{name}")
    public String get(@PathParam("name") String name) {
        Readiness.require(runtime);
        return runtime.registry().get(name).map(e -> CircuitJson.write(e.compiled().circuit()))
                .orElseThrow(() -> new ProblemException(Problem.of(ProblemType.UNKNOWN_CIRCUIT,
                        "circuit " + name + " is not in the registry")));
    }

    /**
     * Every circuit now (one {@code circuit} event each), then each change as the registry applies it (deleted: version
     * null). A comment opens the stream, so a client gets the headers before the first circuit exists, and another
     * follows every {@code cna.steering.events-heartbeat}, so proxies do not close a quiet stream as idle.
     */
    @GET
    @Path("events")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public Multi<OutboundSseEvent> events(@Context Sse sse) {
        Readiness.require(runtime);
        Multi<OutboundSseEvent> circuits = Multi.createBy().concatenating().streams(
                Multi.createFrom().item(sse.newEventBuilder().comment("circuits").build()),
                runtime.registry().changes().map(change -> event(sse, change)));
        Multi<OutboundSseEvent> heartbeats = Multi.createFrom().ticks().every(heartbeat)
                .map(tick -> sse.newEventBuilder().comment("heartbeat").build());
        return Multi.createBy().merging().streams(circuits, heartbeats);
    }

    private static OutboundSseEvent event(Sse sse, CircuitChange change) {
        return sse.newEventBuilder().name(CircuitChange.EVENT).mediaType(MediaType.APPLICATION_JSON_TYPE).data(CircuitChange.class, change).build();
    }
}
