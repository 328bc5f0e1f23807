package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.mutiny.Multi;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import org.jboss.resteasy.reactive.RestMulti;

/**
 * Streamed answers written frame by frame. Quarkus sends the headers with the first item, so a stream that fails
 * before its first item (steering-service refused the request) still becomes a problem response with its status.
 */
final class SseFrames {
    private SseFrames() {}

    /** One SSE frame without its final blank line ({@link #response} adds it): optional event name, then data lines. */
    static String frame(String event, String data) {
        StringBuilder frame = new StringBuilder();
        if (event != null) {
            frame.append("event: ").append(event).append('\n');
        }
        for (String line : data.split("\n", -1)) {
            frame.append("data: ").append(line).append('\n');
        }
        return frame.toString();
    }

    /** A data frame of a value as JSON (OpenAI's chunks). */
    static String json(ObjectMapper json, Object value) {
        try {
            return frame(null, json.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("answers always serialize", e);
        }
    }

    /** An SSE comment frame (without its final blank line): clients skip it, proxies see the stream is alive. */
    static String comment(String text) {
        return ": " + text.replace("\n", " ") + "\n";
    }

    /** A {@code text/event-stream} of these frames. */
    static RestMulti<String> response(Multi<String> frames) {
        return response(frames, MediaType.SERVER_SENT_EVENTS);
    }

    /** Each item written as is, then a newline (the blank line that ends an SSE frame). */
    static RestMulti<String> response(Multi<String> items, String contentType) {
        return RestMulti.fromMultiData(items)
                .header(HttpHeaders.CONTENT_TYPE, contentType)
                .header(HttpHeaders.CACHE_CONTROL, "no-cache")
                .encodeAsJsonArray(false)
                .build();
    }
}
