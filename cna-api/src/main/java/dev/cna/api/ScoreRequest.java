package dev.cna.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * The body of steering-service's {@code POST /score} (steering-service/README.md): teacher-forced log-probabilities of
 * every token of one or more texts under the steered model, all texts in one batch. What OpenAI's legacy completions
 * answer with {@code echo} and {@code logprobs}, and what lm-evaluation-harness sums into log-likelihoods.
 *
 * @param prompts      texts, tokenized as prompts (BOS added when the model wants one); exactly one of prompts and
 *                     promptTokens; 1 to {@code cna.steering.max-score-prompts} (default 64)
 * @param promptTokens token-id lists, taken as they are
 * @param topLogprobs  0 to 20 most likely alternatives per position (default 0)
 * @param steering     up to 16 circuits, as in {@link GenerateRequest}; applied at every position
 * @param steeringMode as in {@link GenerateRequest}; scoring takes the versions in the registry when it runs
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ScoreRequest(List<String> prompts, @JsonProperty("prompt_tokens") List<List<Integer>> promptTokens,
                           @JsonProperty("top_logprobs") Integer topLogprobs, List<GenerateRequest.Steering> steering,
                           @JsonProperty("steering_mode") String steeringMode) {}
