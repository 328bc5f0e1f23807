package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.Problem;
import dev.cna.api.ProblemType;
import dev.cna.api.ScoreResponse;
import dev.cna.api.StreamEvent;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Turns the scoring of the prompts (when echoed) and one steering-service event stream per prompt into OpenAI's legacy
 * completions answer: {@code text_completion} chunks ending in {@code [DONE]}, or one {@code text_completion}. Choice i
 * is prompt i. The echoed prompt's tokens come first in a choice's logprobs (the first with null), then the generated
 * ones; {@code text_offset} counts characters of the choice's text. One instance per request; the streams of several
 * prompts may call it from different threads.
 */
final class TextCompletionTranslator {
    /** A generation failed after the answer started: the stream ends with an error object and no [DONE]. */
    static final class GenerationFailed extends RuntimeException {
        final String slug;

        GenerationFailed(StreamEvent.Error error) {
            super(error.detail() == null ? "" : error.detail());
            this.slug = Problem.slugOf(error.title() == null ? "error" : error.title());
        }
    }

    /** One choice's progress. */
    private static final class State {
        final StringBuilder text = new StringBuilder();
        OpenAiLogprobs.LegacyBuilder logprobs = new OpenAiLogprobs.LegacyBuilder(0);
        int offset;
        int promptTokens;
        int completionTokens;
        String finishReason;
        Map<String, Long> circuits = Map.of();
    }

    private final ObjectMapper json;
    private final String id = "cmpl-" + UUID.randomUUID();
    private final ServedModel.Info model;
    private final TextCompletionRequest request;
    private final List<State> states = new ArrayList<>();

    /** @param scored the prompts' scoring when echoed, else null */
    TextCompletionTranslator(ObjectMapper json, ServedModel.Info model, TextCompletionRequest request, ScoreResponse scored) {
        this.json = json;
        this.model = model;
        this.request = request;
        for (int i = 0; i < request.prompts().size(); i++) {
            State s = new State();
            if (scored != null) {
                echo(s, request.prompts().get(i), scored.results().get(i).tokens());
                s.circuits = scored.circuits() == null ? Map.of() : scored.circuits();
            }
            if (!request.generates()) {
                s.finishReason = "length";
            }
            states.add(s);
        }
    }

    /** The prompt's text and, when asked, its tokens' log-probabilities, as the start of the choice. */
    private void echo(State s, TextCompletionRequest.Prompt prompt, List<ScoreResponse.Token> tokens) {
        StringBuilder decoded = new StringBuilder();
        for (ScoreResponse.Token t : tokens) {
            decoded.append(t.text());
            if (request.logprobs() != null) {
                s.logprobs.add(t.text(), t.logprob(), t.logprob() == null ? null
                        : OpenAiLogprobs.LegacyBuilder.top(t.topLogprobs(), t.text(), t.logprob()));
            }
        }
        s.text.append(prompt.text() != null ? prompt.text() : decoded);
        s.offset = s.text.length();
        s.promptTokens = tokens.size();
    }

    /** Streamed: the echoed prompts, one chunk per prompt (nothing without echo). */
    synchronized List<String> start() {
        List<String> frames = new ArrayList<>();
        if (!request.echo()) {
            return frames;
        }
        for (int i = 0; i < states.size(); i++) {
            State s = states.get(i);
            frames.add(frame(chunk(i, s.text.toString(), takeLogprobs(s), null, s.circuits)));
        }
        return frames;
    }

    /** Streamed: the frames for one upstream event of prompt i's generation. */
    synchronized List<String> frames(int index, UpstreamEvent upstream) {
        StreamEvent event = read(upstream);
        State s = states.get(index);
        List<String> frames = new ArrayList<>(1);
        if (event instanceof StreamEvent.Token token) {
            String piece = take(s, token);
            if (!piece.isEmpty() || !s.logprobs.isEmpty()) {
                frames.add(frame(chunk(index, piece, takeLogprobs(s), null, versions(token.circuits()))));
            }
        } else if (event instanceof StreamEvent.Done done) {
            finish(s, done);
            frames.add(frame(chunk(index, "", null, s.finishReason, s.circuits)));
        } else if (event instanceof StreamEvent.Error error) {
            throw new GenerationFailed(error);
        }
        return frames;
    }

    /** Streamed: finish chunks of choices that only scored, the usage chunk when asked, then [DONE]. */
    synchronized List<String> end() {
        List<String> frames = new ArrayList<>();
        if (!request.generates()) {
            for (int i = 0; i < states.size(); i++) {
                frames.add(frame(chunk(i, "", null, "length", states.get(i).circuits)));
            }
        }
        if (request.includeUsage()) {
            frames.add(frame(new OpenAiText.Completion(id, "text_completion", model.created(), model.id(), List.of(), usage(), null)));
        }
        frames.add(SseFrames.frame(null, "[DONE]"));
        return frames;
    }

    /** Streamed: OpenAI's mid-stream error object. */
    String error(GenerationFailed e) {
        return frame(new OpenAi.ErrorBody(new OpenAi.ErrorDetail(e.getMessage(), "server_error", null, e.slug)));
    }

    /** Whole: the answer from each prompt's events (an empty list per prompt when nothing was generated). */
    synchronized OpenAiText.Completion completion(List<List<UpstreamEvent>> perPrompt) {
        for (int i = 0; i < perPrompt.size(); i++) {
            State s = states.get(i);
            for (UpstreamEvent upstream : perPrompt.get(i)) {
                StreamEvent event = read(upstream);
                if (event instanceof StreamEvent.Token token) {
                    take(s, token);
                } else if (event instanceof StreamEvent.Done done) {
                    finish(s, done);
                } else if (event instanceof StreamEvent.Error error) {
                    throw new ProblemException(ProblemType.BAD_GATEWAY, "the generation failed: " + error.detail());
                }
            }
            if (s.finishReason == null) {
                throw new ProblemException(ProblemType.BAD_GATEWAY, "steering-service ended the stream without done");
            }
        }
        List<OpenAiText.Choice> choices = new ArrayList<>();
        Map<String, Long> circuits = new LinkedHashMap<>();
        for (int i = 0; i < states.size(); i++) {
            State s = states.get(i);
            choices.add(new OpenAiText.Choice(i, s.text.toString(), request.logprobs() == null ? null : s.logprobs.build(), s.finishReason));
            circuits.putAll(s.circuits);
        }
        return new OpenAiText.Completion(id, "text_completion", model.created(), model.id(), choices, usage(),
                new OpenAi.Cna(circuits, null));
    }

    /** Adds a token event to the choice; returns its text. */
    private String take(State s, StreamEvent.Token token) {
        String piece = token.text() == null ? "" : token.text();
        s.text.append(piece);
        if (request.logprobs() != null && token.logprob() != null) {
            String text = OpenAiLogprobs.text(token);
            s.logprobs.add(text, token.logprob(), OpenAiLogprobs.LegacyBuilder.top(
                    token.topLogprobs() == null ? List.of() : token.topLogprobs(), text, token.logprob()));
        }
        return piece;
    }

    /** The log-probabilities gathered since the last chunk (null when none were asked), starting the next batch. */
    private OpenAiLogprobs.Legacy takeLogprobs(State s) {
        if (request.logprobs() == null) {
            return null;
        }
        OpenAiLogprobs.Legacy out = s.logprobs.build();
        int next = out.textOffset().isEmpty() ? s.offset
                : out.textOffset().get(out.textOffset().size() - 1) + out.tokens().get(out.tokens().size() - 1).length();
        s.logprobs = new OpenAiLogprobs.LegacyBuilder(next);
        return out;
    }

    private static void finish(State s, StreamEvent.Done done) {
        s.finishReason = CompletionTranslator.finishReason(done.finishReason());
        if (done.usage() != null) {
            s.promptTokens = done.usage().promptTokens();
            s.completionTokens = done.usage().completionTokens();
        }
        s.circuits = versions(done.circuits());
    }

    private OpenAi.Usage usage() {
        int prompt = states.stream().mapToInt(s -> s.promptTokens).sum();
        int completion = states.stream().mapToInt(s -> s.completionTokens).sum();
        return new OpenAi.Usage(prompt, completion, prompt + completion);
    }

    private OpenAiText.Completion chunk(int index, String text, OpenAiLogprobs.Legacy logprobs, String finishReason,
                                        Map<String, Long> circuits) {
        return new OpenAiText.Completion(id, "text_completion", model.created(), model.id(),
                List.of(new OpenAiText.Choice(index, text, logprobs, finishReason)), null, new OpenAi.Cna(circuits, null));
    }

    private String frame(Object value) {
        return SseFrames.json(json, value);
    }

    private StreamEvent read(UpstreamEvent event) {
        return StreamEvents.read(json, event);
    }

    private static Map<String, Long> versions(Map<String, Long> circuits) {
        return StreamEvents.versions(circuits);
    }
}
