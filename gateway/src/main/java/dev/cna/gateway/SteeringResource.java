package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.jboss.resteasy.reactive.RestMulti;

/**
 * The native API: steering-service's generation stream and circuit registry as they are, behind the gateway's
 * keys and rate limit. SSE responses start with steering-service's first event, so its refusals are problems.
 * Events are passed through frame by frame (name and data as they came).
 */
@Path("/api")
@SecurityRequirement(name = "apiKey")
public class SteeringResource {
    private final SteeringClient steering;
    private final StreamMetrics metrics;
    private final ManualCircuits manual;

    SteeringResource(SteeringClient steering, StreamMetrics metrics, ManualCircuits manual) {
        this.steering = steering;
        this.metrics = metrics;
        this.manual = manual;
    }

    /** steering-service's POST /generate: the body goes as is, the events (token, circuit, done, error) come back as is. */
    @POST
    @Path("generate")
    @Consumes(MediaType.APPLICATION_JSON)
    public RestMulti<String> generate(String body) {
        return forward(metrics.track(steering.stream("/generate", body)));
    }

    /**
     * steering-service's POST /eval/detect: the project's behavior detectors (refusal, French) and quality metric on
     * replies, {@code {"replies": [...]}} in (at most 64, 32000 chars each), {@code {"results": [...]}} out.
     */
    @POST
    @Path("eval/detect")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<String> detect(String body) {
        return steering.post("/eval/detect", body);
    }

    @GET
    @Path("circuits")
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<String> circuits() {
        return steering.get("/circuits");
    }

    @GET
    @Path("circuits/{name}")
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<String> circuit(@PathParam("name") String name) {
        PairsRequestParser.checkFeature(name); // circuits are named after their features
        return steering.get("/circuits/" + name);
    }

    /**
     * Saves a hand-made circuit ({@code method: manual}) as the next version of {@code name} on {@code cna.circuits}
     * (ManualCircuits: schema, served model, not a feature of attribution-service); 202 with where Kafka wrote it.
     * steering-service applies it shortly after ({@code circuits/events} shows it).
     */
    @PUT
    @Path("circuits/{name}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @RequiresRole(Role.ADMIN)
    @Blocking
    public Response save(@PathParam("name") String name, String body) throws JsonProcessingException {
        return Response.accepted(manual.save(name, body)).build();
    }

    /**
     * One {@code circuit} event per circuit in the registry, then one per change (version null = deleted).
     * steering-service's opening comment and heartbeats pass through, so headers come at once and proxies see traffic.
     */
    @GET
    @Path("circuits/events")
    public RestMulti<String> circuitEvents() {
        return forward(steering.follow("/circuits/events"));
    }

    private static RestMulti<String> forward(Multi<UpstreamEvent> events) {
        return SseFrames.response(events.map(e -> e.isComment() ? SseFrames.comment(e.data()) : SseFrames.frame(e.name(), e.data())));
    }
}
