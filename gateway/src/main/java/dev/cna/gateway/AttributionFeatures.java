package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cna.api.ProblemType;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.WebApplicationException;
import org.eclipse.microprofile.rest.client.inject.RestClient;

import java.time.Duration;
import java.util.Optional;

/** attribution-service's view of one feature, its errors as the gateway's problems. */
@ApplicationScoped
public class AttributionFeatures {
    /** How long a client should wait before asking an unreachable attribution-service again. */
    private static final Duration UPSTREAM_RETRY = Duration.ofSeconds(5);

    private final AttributionClient attribution;

    AttributionFeatures(@RestClient AttributionClient attribution) {
        this.attribution = attribution;
    }

    /**
     * attribution-service's {@code GET /features/{name}} (events and prompts applied, circuit version, owning instance), empty when it has no
     * such feature; 502 for another error answer, 503 with Retry-After when it cannot be reached.
     */
    public Optional<JsonNode> find(String name) {
        try {
            return Optional.of(attribution.feature(name));
        } catch (WebApplicationException e) {
            int status = e.getResponse().getStatus();
            if (status == 404) {
                return Optional.empty();
            }
            throw new ProblemException(ProblemType.BAD_GATEWAY, "attribution-service answered " + status);
        } catch (ProcessingException e) { // connection refused, timeout, unreadable answer
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new ProblemException(ProblemType.SERVICE_UNAVAILABLE, "attribution-service is unreachable ("
                    + cause.getClass().getSimpleName() + ")", UPSTREAM_RETRY);
        }
    }
}
