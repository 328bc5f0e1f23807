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
    private final String id;
    private final ServedModel.Info model;
    private final boolean includeUsage;
    private final int index;
    private final ToolCallStream toolCalls; // null when the request offers no tools
    private boolean started;

    /** @param toolCalls whether the reply's tool-call blocks become OpenAI tool_calls (the request offered tools) */
    CompletionTranslator(ObjectMapper json, ServedModel.Info model, boolean includeUsage, boolean toolCalls) {
        this(json, model, includeUsage, toolCalls, 0, newId());
    }

    /**
     * @param toolCalls whether the reply's tool-call blocks become OpenAI tool_calls (the request offered tools)
     * @param index     the choice this stream is (n > 1: one stream per choice)
     * @param id        the completion's id, shared by its choices
     */
    CompletionTranslator(ObjectMapper json, ServedModel.Info model, boolean includeUsage, boolean toolCalls, int index,
                         String id) {
        this.id = id;
        this.json = json;
        this.model = model;
        this.includeUsage = includeUsage;
        this.index = index;
        this.toolCalls = toolCalls ? new ToolCallStream(json) : null;
    }

    /** A new chat completion id. */
    static String newId() {
        return "chatcmpl-" + UUID.randomUUID();
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
            OpenAiLogprobs.Content logprob = OpenAiLogprobs.content(token);
            OpenAi.Cna cna = new OpenAi.Cna(versions(token.circuits()), null);
            if (toolCalls == null) {
                if ((token.text() != null && !token.text().isEmpty()) || logprob != null) {
                    frames.add(frame(tokenChunk(new OpenAi.Delta(null, token.text()), logprob, cna)));
                }
            } else {
                // text inside a tool-call block is held until the call is whole; its log-probabilities come as they are
                if (token.text() != null && !token.text().isEmpty()) {
                    toolCalls.push(token.text()).forEach(p -> frames.add(frame(chunk(delta(p), null, null, cna))));
                }
                if (logprob != null) {
                    frames.add(frame(tokenChunk(new OpenAi.Delta(null, null), logprob, cna)));
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
        List<OpenAiLogprobs.Content> logprobs = new ArrayList<>();
        boolean asked = false;
        for (UpstreamEvent upstream : events) {
            StreamEvent event = read(upstream);
            if (event instanceof StreamEvent.Token token) {
                text.append(token.text() == null ? "" : token.text());
                OpenAiLogprobs.Content logprob = OpenAiLogprobs.content(token);
                asked |= logprob != null;
                if (logprob != null) {
                    logprobs.add(logprob);
                }
            } else if (event instanceof StreamEvent.Error error) {
                throw new ProblemException(ProblemType.BAD_GATEWAY, "the generation failed: " + error.detail());
            } else if (event instanceof StreamEvent.Done done) {
                return new OpenAi.Completion(id, "chat.completion", model.created(), model.id(),
                        List.of(new OpenAi.Choice(index, message(text.toString()), finishReason(done),
                                asked ? new OpenAiLogprobs.Chat(logprobs) : null)),
                        usage(done), new OpenAi.Cna(versions(done.circuits()), null));
            } // circuit swaps: the final versions come with done
        }
        throw new ProblemException(ProblemType.BAD_GATEWAY, "steering-service ended the stream without done");
    }

    private OpenAi.Chunk chunk(OpenAi.Delta delta, String finishReason, OpenAi.Cna cna) {
        return chunk(delta, finishReason, null, cna);
    }

    private OpenAi.Chunk tokenChunk(OpenAi.Delta delta, OpenAiLogprobs.Content logprob, OpenAi.Cna cna) {
        return chunk(delta, null, logprob, cna);
    }

    private OpenAi.Chunk chunk(OpenAi.Delta delta, String finishReason, OpenAiLogprobs.Content logprob, OpenAi.Cna cna) {
        return new OpenAi.Chunk(id, "chat.completion.chunk", model.created(), model.id(),
                List.of(new OpenAi.ChunkChoice(index, delta, finishReason,
                        logprob == null ? null : new OpenAiLogprobs.Chat(List.of(logprob)))), null, cna);
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
        return toolCalls != null && toolCalls.calls() > 0 && !StreamEvent.Done.LENGTH.equals(done.finishReason())
                ? "tool_calls" : finishReason(done.finishReason());
    }

    /** OpenAI's finish reason of steering-service's: length stays, the rest (end of turn, stop string) is stop. */
    static String finishReason(String reason) {
        return StreamEvent.Done.LENGTH.equals(reason) ? "length" : "stop";
    }


    private static OpenAi.Usage usage(StreamEvent.Done done) {
        StreamEvent.Usage u = done.usage();
        return u == null ? new OpenAi.Usage(0, 0, 0) : new OpenAi.Usage(u.promptTokens(), u.completionTokens(), u.totalTokens());
    }

    private static Map<String, Long> versions(Map<String, Long> circuits) {
        return StreamEvents.versions(circuits);
    }

    private String frame(Object value) {
        return SseFrames.json(json, value);
    }

    private StreamEvent read(UpstreamEvent event) {
        return StreamEvents.read(json, event);
    }
}
