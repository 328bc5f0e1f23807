package dev.cna.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.ScoreRequest;
import dev.cna.api.ScoreResponse;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.jboss.resteasy.reactive.RestMulti;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code POST /v1/completions}, OpenAI's legacy text completions, as eval harnesses use them: an echoed prompt's
 * log-probabilities come from one steering-service {@code POST /score} for all prompts (one teacher-forced batch),
 * generation from one {@code POST /generate} per prompt, all sent at once so they ride the same batch.
 */
@Path("/v1")
@SecurityRequirement(name = "apiKey")
public class TextCompletionsResource {
    private final TextCompletionParser parser;
    private final SteeringClient steering;
    private final ServedModel model;
    private final StreamMetrics metrics;
    private final ObjectMapper json;

    TextCompletionsResource(TextCompletionParser parser, SteeringClient steering, ServedModel model, StreamMetrics metrics,
                            ObjectMapper json) {
        this.parser = parser;
        this.steering = steering;
        this.model = model;
        this.metrics = metrics;
        this.json = json;
    }

    /**
     * Streamed: {@code data: text_completion} chunks (the echoed prompts first), {@code data: [DONE]} last. Whole: one
     * {@code text_completion}, a choice per prompt. steering-service's refusals come back as errors with their status.
     *
     * @param steeringQuery {@code ?steering=NAME:M[,NAME:M]}, the steering extension for clients that only take a URL
     */
    @POST
    @Path("completions")
    @Consumes(MediaType.APPLICATION_JSON)
    public RestMulti<String> completions(String body, @QueryParam("steering") String steeringQuery) throws JsonProcessingException {
        TextCompletionRequest request = parser.parse(body, steeringQuery);
        Multi<String> answer = model.get().onItem().transformToMulti(served -> score(request).onItem().transformToMulti(scored -> {
            TextCompletionTranslator translator = new TextCompletionTranslator(json, served, request, scored.orElse(null));
            List<Multi<UpstreamEvent>> generations = new ArrayList<>();
            if (request.generates()) {
                for (TextCompletionRequest.Prompt prompt : request.prompts()) {
                    generations.add(metrics.track(steering.stream("/generate", write(request.generateFor(prompt)))));
                }
            }
            if (!request.stream()) {
                Uni<List<List<UpstreamEvent>>> all = generations.isEmpty() ? Uni.createFrom().item(List.of())
                        : Uni.join().all(generations.stream().map(g -> g.collect().asList()).toList()).andFailFast();
                return all.map(translator::completion).map(this::write).toMulti();
            }
            List<Multi<String>> streams = new ArrayList<>();
            for (int i = 0; i < generations.size(); i++) {
                int index = i;
                streams.add(generations.get(i).onItem().transformToIterable(e -> translator.frames(index, e)));
            }
            Multi<String> generated = streams.isEmpty() ? Multi.createFrom().empty() : Multi.createBy().merging().streams(streams);
            return Multi.createBy().concatenating().streams(
                            Multi.createFrom().deferred(() -> Multi.createFrom().iterable(translator.start())),
                            generated,
                            Multi.createFrom().deferred(() -> Multi.createFrom().iterable(translator.end())))
                    .onFailure(TextCompletionTranslator.GenerationFailed.class)
                    .recoverWithItem(e -> translator.error((TextCompletionTranslator.GenerationFailed) e));
        }));
        return SseFrames.response(answer, request.stream() ? MediaType.SERVER_SENT_EVENTS : MediaType.APPLICATION_JSON);
    }

    /** The echoed prompts' tokens and log-probabilities, all prompts in one scoring; empty without echo. */
    private Uni<Optional<ScoreResponse>> score(TextCompletionRequest request) {
        if (!request.echo()) {
            return Uni.createFrom().item(Optional.empty());
        }
        List<TextCompletionRequest.Prompt> prompts = request.prompts();
        boolean texts = prompts.get(0).text() != null;
        ScoreRequest score = new ScoreRequest(texts ? prompts.stream().map(TextCompletionRequest.Prompt::text).toList() : null,
                texts ? null : prompts.stream().map(TextCompletionRequest.Prompt::tokens).toList(),
                request.logprobs() == null ? 0 : request.logprobs(), request.generate().steering(), request.generate().steeringMode());
        return steering.post("/score", write(score)).map(text -> {
            try {
                return Optional.of(json.readValue(text, ScoreResponse.class));
            } catch (JsonProcessingException e) {
                throw new ProblemException(dev.cna.api.ProblemType.BAD_GATEWAY, "steering-service's scoring is not its JSON");
            }
        });
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("requests and answers always serialize", e);
        }
    }
}
