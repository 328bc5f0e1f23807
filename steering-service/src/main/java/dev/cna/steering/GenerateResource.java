package dev.cna.steering;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cna.api.GenerateRequest;
import dev.cna.api.Problem;
import dev.cna.api.ProblemType;
import dev.cna.api.StreamEvent;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.tokenizer.Tokenizer;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.operators.multi.processors.UnicastProcessor;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.List;

/**
 * POST /generate: validates the request, queues it (429 when the queue is full) and streams its events as
 * SSE: token, circuit, then done or error. A client that disconnects cancels its row at the next token.
 */
@Path("/generate")
public class GenerateResource {
    private final SteeringRuntime runtime;
    private final ObjectMapper json;
    private final int maxTokensLimit;

    GenerateResource(SteeringRuntime runtime, ObjectMapper json,
                     @ConfigProperty(name = "cna.steering.max-tokens", defaultValue = "1024") int maxTokensLimit) {
        this.runtime = runtime;
        this.json = json;
        this.maxTokensLimit = maxTokensLimit;
    }

    @POST
    @Blocking
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public Multi<OutboundSseEvent> generate(GenerateRequest request, @Context Sse sse) {
        if (request == null) {
            throw ProblemException.badRequest("the body must be a JSON object");
        }
        Readiness.require(runtime);
        LoadedModel model = runtime.model();
        SamplingParams params = StructuredOutput.constrain(request,
                GenerateRequests.validate(request, maxTokensLimit, model.tokenizer().vocabSize()), model.tokenizer());
        int[] prompt = tokens(request, model.tokenizer());
        int context = model.config().contextLength();
        if (prompt.length >= context) {
            throw ProblemException.badRequest("the prompt has " + prompt.length + " tokens; the model's context is " + context);
        }
        int perRequest = runtime.budget().maxTokensPerRow();
        if (Math.min(context, prompt.length + params.maxTokens()) > perRequest) {
            throw ProblemException.badRequest("the prompt (" + prompt.length + " tokens) plus max_tokens (" + params.maxTokens()
                    + ") exceed the " + perRequest + " tokens per request that this service's memory budget holds");
        }
        GenerationJob.Mode mode = GenerateRequests.mode(request.steeringMode());
        List<GenerationJob.Steering> circuits = GenerateRequests.circuits(request.steering());
        GenerateRequests.requirePinned(mode, circuits, runtime.registry());
        UnicastProcessor<StreamEvent> events = UnicastProcessor.create();
        GenerationJob job = new GenerationJob(prompt, params, circuits, mode, runtime.registry(),
                model.config().layers(), new GenerationJob.Sink() {
                    @Override public void send(StreamEvent e) { events.onNext(e); }
                    @Override public void end() { events.onComplete(); }
                }, runtime::recordSwapLatency, runtime.tokenTexts());
        if (!runtime.scheduler().offer(job)) {
            Scheduler.Status s = runtime.scheduler().status();
            throw new ProblemException(Problem.of(ProblemType.QUEUE_FULL,
                    "all " + s.maxBatch() + " rows are busy and " + s.queueCapacity() + " requests are waiting; retry shortly"), 1);
        }
        return events.onCancellation().invoke(job::cancel).map(e -> sse.newEvent(e.name(), write(e)));
    }

    private static int[] tokens(GenerateRequest request, Tokenizer tokenizer) {
        if (request.promptTokens() != null) {
            return SamplingControlsRequests.promptTokens(request.promptTokens(), tokenizer.vocabSize(), "prompt_tokens");
        }
        String text = request.prompt() != null ? request.prompt()
                : StructuredOutput.render(request, GenerateRequests.messages(request), tokenizer);
        return tokenizer.encodePrompt(text);
    }

    private String write(StreamEvent e) {
        try {
            return json.writeValueAsString(e);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("stream events always serialize", ex);
        }
    }
}
