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
    private boolean started;

    CompletionTranslator(ObjectMapper json, ServedModel.Info model, boolean includeUsage) {
        this(json, model, includeUsage, 0, newId());
    }

    /**
     * @param index the choice this stream is (n > 1: one stream per choice)
     * @param id    the completion's id, shared by its choices
     */
    CompletionTranslator(ObjectMapper json, ServedModel.Info model, boolean includeUsage, int index, String id) {
        this.id = id;
        this.json = json;
        this.model = model;
        this.includeUsage = includeUsage;
        this.index = index;
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
            if ((token.text() != null && !token.text().isEmpty()) || logprob != null) {
                frames.add(frame(new OpenAi.Chunk(id, "chat.completion.chunk", model.created(), model.id(),
                        List.of(new OpenAi.ChunkChoice(index, new OpenAi.Delta(null, token.text()), null,
                                logprob == null ? null : new OpenAiLogprobs.Chat(List.of(logprob)))),
                        null, new OpenAi.Cna(versions(token.circuits()), null))));
            }
        } else if (event instanceof StreamEvent.CircuitSwap swap) {
            frames.add(frame(chunk(new OpenAi.Delta(null, null), null, new OpenAi.Cna(null, swap))));
        } else if (event instanceof StreamEvent.Done done) {
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
                        List.of(new OpenAi.Choice(index, new OpenAi.Message("assistant", text.toString()), finishReason(done),
                                asked ? new OpenAiLogprobs.Chat(logprobs) : null)),
                        usage(done), new OpenAi.Cna(versions(done.circuits()), null));
            } // circuit swaps: the final versions come with done
        }
        throw new ProblemException(ProblemType.BAD_GATEWAY, "steering-service ended the stream without done");
    }

    private OpenAi.Chunk chunk(OpenAi.Delta delta, String finishReason, OpenAi.Cna cna) {
        return new OpenAi.Chunk(id, "chat.completion.chunk", model.created(), model.id(),
                List.of(new OpenAi.ChunkChoice(index, delta, finishReason)), null, cna);
    }

    /** OpenAI knows stop and length; cancelled never reaches a client (it is what a gone client causes). */
    static String finishReason(StreamEvent.Done done) {
        return StreamEvent.Done.LENGTH.equals(done.finishReason()) ? "length" : "stop";
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
