package dev.cna.steering;

import dev.cna.api.Problem;
import dev.cna.api.ProblemType;
import dev.cna.api.ScoreRequest;
import dev.cna.api.ScoreResponse;
import dev.cna.core.generate.SamplingControls;
import dev.cna.core.runtime.LoadedModel;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.ArrayList;
import java.util.List;

/**
 * POST /score: teacher-forced log-probabilities of every token of one or more prompts (cna-api's {@link ScoreRequest}),
 * run as one batch on the decode thread, steered at every position. 400 for what is out of range, 404 for a pinned
 * circuit that does not exist, 429 when the scoring queue is full.
 */
@Path("/score")
public class ScoreResource {
    private final SteeringRuntime runtime;
    private final int maxPrompts;

    ScoreResource(SteeringRuntime runtime,
                  @ConfigProperty(name = "cna.steering.max-score-prompts", defaultValue = "64") int maxPrompts) {
        this.runtime = runtime;
        this.maxPrompts = maxPrompts;
    }

    @POST
    @Blocking
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<ScoreResponse> score(ScoreRequest request) {
        if (request == null) {
            throw ProblemException.badRequest("the body must be a JSON object");
        }
        Readiness.require(runtime);
        LoadedModel model = runtime.model();
        List<int[]> prompts = prompts(request, model);
        int top = request.topLogprobs() == null ? 0 : request.topLogprobs();
        if (top < 0 || top > SamplingControls.MAX_LOGPROBS) {
            throw ProblemException.badRequest("top_logprobs must be 0 to " + SamplingControls.MAX_LOGPROBS + ", got " + top);
        }
        GenerateRequests.validateSteering(request.steering(), request.steeringMode());
        GenerationJob.Mode mode = GenerateRequests.mode(request.steeringMode());
        List<GenerationJob.Steering> circuits = GenerateRequests.circuits(request.steering());
        GenerateRequests.requirePinned(mode, circuits, runtime.registry());
        ScoreJob job = new ScoreJob(prompts, circuits, runtime.registry(), top, model.tokenizer(), runtime.tokenTexts());
        if (!runtime.scheduler().offer(job)) {
            throw new ProblemException(Problem.of(ProblemType.QUEUE_FULL, "the scoring queue is full; retry shortly"), 1);
        }
        return Uni.createFrom().completionStage(job.result()).onFailure(e -> !(e instanceof ProblemException))
                .transform(e -> new ProblemException(Problem.of(500, "internal-server-error", "Internal Server Error",
                        "scoring failed: " + e.getMessage())));
    }

    /** The prompts as token ids, each 1 to context - 1 tokens, all together within the memory budget. */
    private List<int[]> prompts(ScoreRequest request, LoadedModel model) {
        if ((request.prompts() == null) == (request.promptTokens() == null)) {
            throw ProblemException.badRequest("give exactly one of prompts (texts) and prompt_tokens (token-id lists)");
        }
        int count = request.prompts() != null ? request.prompts().size() : request.promptTokens().size();
        if (count < 1 || count > maxPrompts) {
            throw ProblemException.badRequest("a score request takes 1 to " + maxPrompts + " prompts, got " + count);
        }
        int vocab = model.tokenizer().vocabSize();
        List<int[]> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int[] ids;
            if (request.prompts() != null) {
                String text = request.prompts().get(i);
                if (text == null || text.isEmpty()) {
                    throw ProblemException.badRequest("prompts[" + i + "] must be a non-empty string");
                }
                ids = model.tokenizer().encodePrompt(text);
            } else {
                ids = SamplingControlsRequests.promptTokens(request.promptTokens().get(i), vocab, "prompt_tokens[" + i + "]");
            }
            if (ids.length >= model.config().contextLength()) {
                throw ProblemException.badRequest("prompt " + i + " has " + ids.length + " tokens; the model's context is "
                        + model.config().contextLength());
            }
            out.add(ids);
        }
        int width = out.stream().mapToInt(p -> p.length).max().getAsInt();
        if (!runtime.budget().fits(out.size(), width)) {
            throw ProblemException.badRequest(out.size() + " prompts of up to " + width
                    + " tokens need more KV cache than this service's memory budget; send fewer or shorter prompts");
        }
        return out;
    }
}
