package dev.cna.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

/**
 * The model steering-service serves (its GET /status). Chat answers name it; it is asked once and kept, since
 * a steering-service serves one model for its whole life ({@link #fetch} refreshes it).
 */
@ApplicationScoped
public class ServedModel {
    /** The model id and when the gateway first saw it (OpenAI's {@code created}). */
    public record Info(String id, long created) {}

    private final SteeringClient steering;
    private final ObjectMapper json;
    private volatile Info known;

    ServedModel(SteeringClient steering, ObjectMapper json) {
        this.steering = steering;
        this.json = json;
    }

    /** The model, asked for only the first time. */
    public Uni<Info> get() {
        Info info = known;
        return info != null ? Uni.createFrom().item(info) : fetch();
    }

    /** The model as steering-service says now. */
    public Uni<Info> fetch() {
        return steering.get("/status").map(body -> {
            String id = read(body).path("model").path("id").asText();
            Info info = known;
            if (info == null || !info.id().equals(id)) {
                info = new Info(id, Instant.now().getEpochSecond());
                known = info;
            }
            return info;
        });
    }

    private JsonNode read(String body) {
        try {
            return json.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException("steering-service's /status is not JSON", e);
        }
    }
}
