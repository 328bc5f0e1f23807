package dev.cna.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Map;

/**
 * steering-service's answer to {@link ScoreRequest}: one entry per prompt, in order.
 *
 * @param results  per prompt, its tokens
 * @param circuits the circuit versions the scoring ran under, by name
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ScoreResponse(List<Scored> results, Map<String, Long> circuits) {

    /** @param tokens every token of the prompt, in order */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Scored(List<Token> tokens) {}

    /**
     * One prompt token.
     *
     * @param token       its id
     * @param text        its text as the prompt's text continues with it (the texts of a prompt's tokens concatenate
     *                    to the decoded prompt)
     * @param bytes       the UTF-8 bytes of the token alone
     * @param logprob     natural log of its probability after the tokens before it; null for the first token
     * @param topLogprobs the most likely tokens at its position (empty for the first token)
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Token(int token, String text, List<Integer> bytes, Double logprob,
                        @JsonProperty("top_logprobs") List<StreamEvent.Logprob> topLogprobs) {}
}
