package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Turns one steering-service event stream (token, circuit, done, error) into OpenAI's answer: SSE frames of
 * {@code chat.completion.chunk}s ending in {@code [DONE]}, or one {@code chat.completion}. One instance per request.
 */
final class CompletionTranslator {
    private static final TypeReference<Map<String, Long>> VERSIONS = new TypeReference<>() {};

    private final ObjectMapper json;
    private final String id = "chatcmpl-" + UUID.randomUUID();
    private final ServedModel.Info model;
    private final boolean includeUsage;
    private boolean started;

    CompletionTranslator(ObjectMapper json, ServedModel.Info model, boolean includeUsage) {
        this.json = json;
        this.model = model;
        this.includeUsage = includeUsage;
    }

    /** The SSE frames ({@link SseFrames#frame}) for one upstream event. */
    List<String> frames(UpstreamEvent event) {
        JsonNode data = read(event);
        List<String> frames = new ArrayList<>(4);
        if (!started) { // the role comes first, with the first event, so an upstream failure is still a problem
            started = true;
            frames.add(frame(chunk(new OpenAi.Delta("assistant", ""), null, null)));
        }
        switch (event.name()) {
            case "token" -> {
                String text = data.path("text").asText("");
                if (!text.isEmpty()) {
                    frames.add(frame(chunk(new OpenAi.Delta(null, text), null, new OpenAi.Cna(versions(data), null))));
                }
            }
            case "circuit" -> frames.add(frame(chunk(new OpenAi.Delta(null, null), null, new OpenAi.Cna(null, data))));
            case "done" -> {
                frames.add(frame(chunk(new OpenAi.Delta(null, null), finishReason(data), new OpenAi.Cna(versions(data), null))));
                if (includeUsage) {
                    frames.add(frame(new OpenAi.Chunk(id, "chat.completion.chunk", model.created(), model.id(), List.of(),
                            usage(data), null)));
                }
                frames.add(SseFrames.frame(null, "[DONE]"));
            }
            // OpenAI's way to report a failure mid-stream; no [DONE] follows
            case "error" -> frames.add(frame(Map.of("error", Map.of("message", data.path("detail").asText(),
                    "type", data.path("title").asText("error")))));
            default -> { } // an event this gateway does not know yet: nothing to say in OpenAI's terms
        }
        return frames;
    }

    /** The whole completion from all events of a finished stream. */
    OpenAi.Completion completion(List<UpstreamEvent> events) {
        StringBuilder text = new StringBuilder();
        for (UpstreamEvent event : events) {
            JsonNode data = read(event);
            switch (event.name()) {
                case "token" -> text.append(data.path("text").asText(""));
                case "error" -> throw new ProblemException(502, "Bad Gateway",
                        "the generation failed: " + data.path("detail").asText(), null);
                case "done" -> {
                    return new OpenAi.Completion(id, "chat.completion", model.created(), model.id(),
                            List.of(new OpenAi.Choice(0, new OpenAi.Message("assistant", text.toString()), finishReason(data))),
                            usage(data), new OpenAi.Cna(versions(data), null));
                }
                default -> { } // circuit swaps: the final versions come with done
            }
        }
        throw new ProblemException(502, "Bad Gateway", "steering-service ended the stream without done", null);
    }

    private OpenAi.Chunk chunk(OpenAi.Delta delta, String finishReason, OpenAi.Cna cna) {
        return new OpenAi.Chunk(id, "chat.completion.chunk", model.created(), model.id(),
                List.of(new OpenAi.ChunkChoice(0, delta, finishReason)), null, cna);
    }

    /** OpenAI knows stop and length; cancelled never reaches a client (it is what a gone client causes). */
    private static String finishReason(JsonNode done) {
        return "length".equals(done.path("finish_reason").asText()) ? "length" : "stop";
    }

    private static OpenAi.Usage usage(JsonNode done) {
        JsonNode u = done.path("usage");
        return new OpenAi.Usage(u.path("prompt_tokens").asInt(), u.path("completion_tokens").asInt(), u.path("total_tokens").asInt());
    }

    private Map<String, Long> versions(JsonNode data) {
        return data.hasNonNull("circuits") ? json.convertValue(data.get("circuits"), VERSIONS) : Map.of();
    }

    private String frame(Object value) {
        try {
            return SseFrames.frame(null, json.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("chunks always serialize", e);
        }
    }

    private JsonNode read(UpstreamEvent event) {
        try {
            return json.readTree(event.data());
        } catch (JsonProcessingException e) {
            throw new ProblemException(502, "Bad Gateway", "steering-service sent an event that is not JSON", null);
        }
    }
}
