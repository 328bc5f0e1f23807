package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.GenerateRequest;
import dev.cna.api.StreamEvent;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A chat completion with n > 1 choices: n generations of the same request sent to steering-service at once (so they
 * join its batch together), choice i seeded with seed + i when the request has a seed (reproducible, and the choices
 * differ); streamed, the choices' chunks interleave, each with its index, and one usage chunk and one {@code [DONE]}
 * end the stream; whole, one {@code chat.completion} with the n choices. Usage counts the prompt once.
 */
final class ChatChoices {
    private final ObjectMapper json;
    private final ServedModel.Info model;
    private final ChatRequest request;
    private final String id = CompletionTranslator.newId();

    ChatChoices(ObjectMapper json, ServedModel.Info model, ChatRequest request) {
        this.json = json;
        this.model = model;
        this.request = request;
    }

    /** The requests of the n choices. */
    List<GenerateRequest> generates() {
        List<GenerateRequest> out = new ArrayList<>(request.n());
        GenerateRequest g = request.generate();
        for (int i = 0; i < request.n(); i++) {
            out.add(new GenerateRequest(g.prompt(), g.messages(), g.maxTokens(), g.temperature(), g.topK(), g.topP(),
                    g.seed() == null ? null : g.seed() + i, g.stop(), g.steering(), g.steeringMode(), g.logprobs(),
                    g.presencePenalty(), g.frequencyPenalty(), g.repetitionPenalty(), g.minP(), g.logitBias(), g.promptTokens(),
                    g.jsonSchema(), g.tools(), g.toolChoice()));
        }
        return out;
    }

    /** Streamed: the n event streams as one SSE answer. */
    Multi<String> stream(List<Multi<UpstreamEvent>> events) {
        String done = SseFrames.frame(null, "[DONE]");
        AtomicInteger promptTokens = new AtomicInteger();
        AtomicInteger completionTokens = new AtomicInteger();
        AtomicBoolean failed = new AtomicBoolean();
        List<Multi<String>> choices = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            CompletionTranslator translator = new CompletionTranslator(json, model, false, request.offersTools(), i, id);
            choices.add(events.get(i).onItem().transformToIterable(e -> {
                StreamEvent event = StreamEvents.read(json, e);
                if (event instanceof StreamEvent.Done d && d.usage() != null) {
                    promptTokens.set(d.usage().promptTokens());
                    completionTokens.addAndGet(d.usage().completionTokens());
                } else if (event instanceof StreamEvent.Error) {
                    failed.set(true);
                }
                return translator.frames(e).stream().filter(f -> !f.equals(done)).toList();
            }));
        }
        return Multi.createBy().concatenating().streams(Multi.createBy().merging().streams(choices),
                Multi.createFrom().deferred(() -> {
                    List<String> tail = new ArrayList<>();
                    if (failed.get()) {
                        return Multi.createFrom().empty(); // the error frame ended the answer: no [DONE]
                    }
                    if (request.includeUsage()) {
                        tail.add(frame(new OpenAi.Chunk(id, "chat.completion.chunk",
                                model.created(), model.id(), List.of(),
                                usage(promptTokens.get(), completionTokens.get()), null)));
                    }
                    tail.add(done);
                    return Multi.createFrom().iterable(tail);
                }));
    }

    /** Whole: the n completions as one. */
    Uni<OpenAi.Completion> whole(List<Multi<UpstreamEvent>> events) {
        List<Uni<OpenAi.Completion>> each = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            CompletionTranslator translator = new CompletionTranslator(json, model, false, request.offersTools(), i, id);
            each.add(events.get(i).collect().asList().map(translator::completion));
        }
        return Uni.join().all(each).andFailFast().map(all -> {
            List<OpenAi.Choice> choices = all.stream().map(c -> c.choices().get(0)).toList();
            Map<String, Long> circuits = new LinkedHashMap<>();
            all.forEach(c -> circuits.putAll(c.cna() == null || c.cna().circuits() == null ? Map.of() : c.cna().circuits()));
            int completion = all.stream().mapToInt(c -> c.usage().completionTokens()).sum();
            OpenAi.Completion first = all.get(0);
            return new OpenAi.Completion(first.id(), first.object(), first.created(), first.model(), choices,
                    usage(first.usage().promptTokens(), completion), new OpenAi.Cna(circuits, null));
        });
    }

    /** Sends the n requests with the given sender (the request body as JSON in, its events out). */
    List<Multi<UpstreamEvent>> send(Function<String, Multi<UpstreamEvent>> sender) {
        List<Multi<UpstreamEvent>> out = new ArrayList<>();
        for (GenerateRequest g : generates()) {
            try {
                out.add(sender.apply(json.writeValueAsString(g)));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("requests always serialize", e);
            }
        }
        return out;
    }

    private static OpenAi.Usage usage(int prompt, int completion) {
        return new OpenAi.Usage(prompt, completion, prompt + completion);
    }

    private String frame(Object value) {
        return SseFrames.json(json, value);
    }
}
