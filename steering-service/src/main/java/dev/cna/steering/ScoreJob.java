package dev.cna.steering;

import dev.cna.api.ScoreResponse;
import dev.cna.api.StreamEvent;
import dev.cna.core.generate.Scorer;
import dev.cna.core.generate.TokenLogprobs;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.NeuronScaling;
import dev.cna.core.steer.CompiledCircuit;
import dev.cna.core.steer.SteeringPlan;
import dev.cna.core.tokenizer.StreamingDetokenizer;
import dev.cna.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One {@code POST /score} request: its prompts teacher-forced as one batch by the decode thread between two decode
 * steps ({@link Scheduler#offer(ScoreJob)}), every row steered by the request's circuits at the versions in the
 * registry when it runs.
 */
final class ScoreJob {
    private final List<int[]> prompts;
    private final List<GenerationJob.Steering> steering;
    private final CircuitRegistry registry;
    private final int top;
    private final Tokenizer tokenizer;
    private final TokenTexts texts;
    private final CompletableFuture<ScoreResponse> result = new CompletableFuture<>();

    /** @param top alternatives per position, 0 to 20 (checked by the caller) */
    ScoreJob(List<int[]> prompts, List<GenerationJob.Steering> steering, CircuitRegistry registry, int top,
             Tokenizer tokenizer, TokenTexts texts) {
        this.prompts = List.copyOf(prompts);
        this.steering = List.copyOf(steering);
        this.registry = registry;
        this.top = top;
        this.tokenizer = tokenizer;
        this.texts = texts;
    }

    /** Completes with the answer, or with the failure of the forward pass. */
    CompletableFuture<ScoreResponse> result() {
        return result;
    }

    /** Runs on the decode thread. */
    void run(Backend model) {
        try {
            List<CompiledCircuit.Scaled> scaled = new ArrayList<>();
            Map<String, Long> versions = new LinkedHashMap<>();
            for (GenerationJob.Steering s : steering) {
                registry.get(s.circuit()).ifPresent(e -> {
                    scaled.add(e.compiled().times(s.multiplier()));
                    versions.put(e.compiled().name(), e.compiled().version());
                });
            }
            SteeringPlan plan = SteeringPlan.compose(scaled, model.config().layers());
            List<List<TokenLogprobs>> scored;
            NeuronScaling hook = SteeringPlan.hook(Collections.nCopies(prompts.size(), plan), model.config());
            try {
                scored = Scorer.score(model, prompts, hook, top);
            } finally {
                if (hook != null) {
                    hook.close();
                }
            }
            List<ScoreResponse.Scored> results = new ArrayList<>(prompts.size());
            for (int r = 0; r < prompts.size(); r++) {
                results.add(new ScoreResponse.Scored(tokens(prompts.get(r), scored.get(r))));
            }
            result.complete(new ScoreResponse(results, versions));
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
        }
    }

    /** Fails a job that never ran (the service is stopping). */
    void abandon(String reason) {
        result.completeExceptionally(new IllegalStateException(reason));
    }

    /** The prompt's tokens with their texts in context (they concatenate to the decoded prompt) and log-probabilities. */
    private List<ScoreResponse.Token> tokens(int[] prompt, List<TokenLogprobs> logprobs) {
        StreamingDetokenizer detokenizer = new StreamingDetokenizer(tokenizer);
        List<ScoreResponse.Token> out = new ArrayList<>(prompt.length);
        for (int i = 0; i < prompt.length; i++) {
            String text = detokenizer.push(prompt[i]);
            if (i == prompt.length - 1) {
                text += detokenizer.flush();
            }
            TokenLogprobs lp = logprobs.get(i);
            out.add(new ScoreResponse.Token(prompt[i], text, StreamEvent.Logprob.utf8(texts.text(prompt[i])),
                    lp == null ? null : (double) lp.logprob(), lp == null ? List.of() : texts.top(lp)));
        }
        return out;
    }
}
