package dev.cna.gateway;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/** The body of steering-service's POST /generate, as the gateway sends it (absent fields take its defaults). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GenerateBody(
        List<Message> messages,
        @JsonProperty("max_tokens") Integer maxTokens,
        Double temperature,
        @JsonProperty("top_p") Double topP,
        Long seed,
        List<String> stop,
        List<Steering> steering,
        @JsonProperty("steering_mode") String steeringMode) {

    public record Message(String role, String content) {}

    public record Steering(String circuit, double multiplier) {}
}
