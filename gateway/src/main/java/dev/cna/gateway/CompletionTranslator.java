package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.Problem;
import dev.cna.api.ProblemType;
import dev.cna.api.StreamEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Turns one steering-service event stream ({@link StreamEvent}s: token, circuit, done, error) into OpenAI's answer:
 * SSE frames of {@code chat.completion.chunk}s ending in {@code [DONE]}, or one {@code chat.completion}. One instance
 * per request.
 */
final class CompletionTranslator {
    private final ObjectMapper json;
    private final String id = "chatcmpl-" + UUID.randomUUID();
    private final ServedModel.Info model;
    private final boolean includeUsage;
    private final ToolCallStream toolCalls; // null when the request offers no tools
    private boolean started;

    /** @param toolCalls whether the reply's tool-call blocks become OpenAI tool_calls (the request offered tools) */
    CompletionTranslator(ObjectMapper json, ServedModel.Info model, boolean includeUsage, boolean toolCalls) {
        this.json = json;
        this.model = model;
        this.includeUsage = includeUsage;
        this.toolCalls = toolCalls ? new ToolCallStream(json) : null;
    }

    /** The SSE frames ({@link SseFrames#frame}) for one upstream event. */
    List<String> frames(UpstreamEvent upstream) {
        StreamEvent event = read(upstream);
        List<String> frames = new ArrayList<>(4);
        if (!started) { // the role comes first, with the first event, so an upstream failure is still a problem
            started = true;
            frames.add(frame(chunk(new OpenAi.Delta("assistant", ""), null, null)));
        }
        if (event instanceof StreamEvent.Token token) {
            if (token.text() != null && !token.text().isEmpty()) {
                OpenAi.Cna cna = new OpenAi.Cna(versions(token.circuits()), null);
                if (toolCalls == null) {
                    frames.add(frame(chunk(new OpenAi.Delta(null, token.text()), null, cna)));
                } else {
                    toolCalls.push(token.text()).forEach(p -> frames.add(frame(chunk(delta(p), null, cna))));
                }
            }
        } else if (event instanceof StreamEvent.CircuitSwap swap) {
            frames.add(frame(chunk(new OpenAi.Delta(null, null), null, new OpenAi.Cna(null, swap))));
        } else if (event instanceof StreamEvent.Done done) {
            if (toolCalls != null) {
                toolCalls.finish().forEach(p -> frames.add(frame(chunk(delta(p), null, null))));
            }
            frames.add(frame(chunk(new OpenAi.Delta(null, null), finishReason(done), new OpenAi.Cna(versions(done.circuits()), null))));
            if (includeUsage) {
                frames.add(frame(new OpenAi.Chunk(id, "chat.completion.chunk", model.created(), model.id(), List.of(),
                        usage(done), null)));
            }
            frames.add(SseFrames.frame(null, "[DONE]"));
        } else if (event instanceof StreamEvent.Error error) {
            // OpenAI's way to report a failure mid-stream; no [DONE] follows
            frames.add(frame(new OpenAi.ErrorBody(new OpenAi.ErrorDetail(error.detail() == null ? "" : error.detail(),
                    "server_error", null, Problem.slugOf(error.title() == null ? "error" : error.title())))));
        } // null: an event this gateway does not know yet, nothing to say in OpenAI's terms
        return frames;
    }

    /** The whole completion from all events of a finished stream. */
    OpenAi.Completion completion(List<UpstreamEvent> events) {
        StringBuilder text = new StringBuilder();
        for (UpstreamEvent upstream : events) {
            StreamEvent event = read(upstream);
            if (event instanceof StreamEvent.Token token && token.text() != null) {
                text.append(token.text());
            } else if (event instanceof StreamEvent.Error error) {
                throw new ProblemException(ProblemType.BAD_GATEWAY, "the generation failed: " + error.detail());
            } else if (event instanceof StreamEvent.Done done) {
                return new OpenAi.Completion(id, "chat.completion", model.created(), model.id(),
                        List.of(new OpenAi.Choice(0, message(text.toString()), finishReason(done))),
                        usage(done), new OpenAi.Cna(versions(done.circuits()), null));
            } // circuit swaps: the final versions come with done
        }
        throw new ProblemException(ProblemType.BAD_GATEWAY, "steering-service ended the stream without done");
    }

    private OpenAi.Chunk chunk(OpenAi.Delta delta, String finishReason, OpenAi.Cna cna) {
        return new OpenAi.Chunk(id, "chat.completion.chunk", model.created(), model.id(),
                List.of(new OpenAi.ChunkChoice(0, delta, finishReason)), null, cna);
    }

    /** A streamed piece: content, or one whole tool call (with its index) in one delta. */
    private static OpenAi.Delta delta(ToolCallStream.Piece piece) {
        return piece.call() == null ? new OpenAi.Delta(null, piece.content())
                : new OpenAi.Delta(null, null, List.of(piece.call()));
    }

    /** The reply as a message: with tools offered, its tool-call blocks as tool_calls (content null when only those). */
    private OpenAi.Message message(String text) {
        if (toolCalls == null) {
            return new OpenAi.Message("assistant", text);
        }
        List<ToolCallStream.Piece> pieces = new ArrayList<>(toolCalls.push(text));
        pieces.addAll(toolCalls.finish());
        StringBuilder content = new StringBuilder();
        List<OpenAi.ToolCall> calls = new ArrayList<>();
        for (ToolCallStream.Piece p : pieces) {
            if (p.call() != null) {
                calls.add(p.call().inMessage());
            } else {
                content.append(p.content());
            }
        }
        return calls.isEmpty() ? new OpenAi.Message("assistant", content.toString())
                : new OpenAi.Message("assistant", content.isEmpty() ? null : content.toString(), calls);
    }

    /**
     * OpenAI knows stop, length and tool_calls (a reply that called tools); cancelled never reaches a client (it is
     * what a gone client causes).
     */
    private String finishReason(StreamEvent.Done done) {
        if (StreamEvent.Done.LENGTH.equals(done.finishReason())) {
            return "length";
        }
        return toolCalls != null && toolCalls.calls() > 0 ? "tool_calls" : "stop";
    }

    private static OpenAi.Usage usage(StreamEvent.Done done) {
        StreamEvent.Usage u = done.usage();
        return u == null ? new OpenAi.Usage(0, 0, 0) : new OpenAi.Usage(u.promptTokens(), u.completionTokens(), u.totalTokens());
    }

    private static Map<String, Long> versions(Map<String, Long> circuits) {
        return circuits == null ? Map.of() : circuits;
    }

    private String frame(Object value) {
        try {
            return SseFrames.frame(null, json.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("chunks always serialize", e);
        }
    }

    /** The event's record, or null for an event name this gateway does not know. */
    private StreamEvent read(UpstreamEvent event) {
        Class<? extends StreamEvent> type = StreamEvent.TYPES.get(event.name());
        if (type == null) {
            return null;
        }
        try {
            return json.readValue(event.data(), type);
        } catch (JsonProcessingException e) {
            throw new ProblemException(ProblemType.BAD_GATEWAY, "steering-service sent a " + event.name()
                    + " event that is not its JSON");
        }
    }
}
