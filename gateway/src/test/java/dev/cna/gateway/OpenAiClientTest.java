package dev.cna.gateway;

import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.cna.gateway.Platform.CHAT_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A real OpenAI client library (LangChain4j's OpenAiStreamingChatModel) talks to the gateway unchanged. */
@QuarkusTest
@WithTestResource(SteeringStack.class)
class OpenAiClientTest {
    private static final String QUESTION = "What is the capital of France?";

    /** The streamed reply as the client library assembles it, and the partial texts it was given on the way. */
    record Reply(String text, List<String> partials, ChatResponse response) {}

    @Test
    void aStreamedReplyArrivesThroughLangChain4j() throws Exception {
        Reply reply = ask(model(Map.of()));
        assertFalse(reply.text().isBlank());
        assertTrue(reply.partials().size() > 1, "streamed in pieces: " + reply.partials());
        assertEquals(reply.text(), String.join("", reply.partials()));
        assertEquals(Platform.steeringStatus().getString("model.id"), reply.response().metadata().modelName());
        int tokens = reply.response().tokenUsage().outputTokenCount();
        assertTrue(tokens > 0 && tokens <= 12, "usage from the stream: " + tokens);
    }

    @Test
    void theSteeringExtensionGoesThroughCustomParameters() throws Exception {
        String name = "lc4j-" + System.nanoTime();
        Platform.publish(name, 1, Platform.circuit(name, 1, 5, 25, 143));
        String plain = ask(model(Map.of())).text();
        String steered = ask(model(Map.of("steering", List.of(Map.of("circuit", name, "multiplier", 0.0)),
                "steering_mode", "pinned"))).text();
        assertNotEquals(plain, steered);
    }

    private static StreamingChatModel model(Map<String, Object> custom) {
        return OpenAiStreamingChatModel.builder()
                .baseUrl("http://127.0.0.1:" + io.restassured.RestAssured.port + "/v1")
                .apiKey(CHAT_KEY)
                .modelName("whatever-the-client-likes")
                .temperature(0.0)
                .maxTokens(12)
                .customParameters(custom)
                .timeout(Duration.ofMinutes(2))
                .build();
    }

    private static Reply ask(StreamingChatModel model) throws Exception {
        List<String> partials = new java.util.concurrent.CopyOnWriteArrayList<>();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat(List.of(UserMessage.from(QUESTION)), new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                partials.add(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse response = done.get(2, TimeUnit.MINUTES);
        return new Reply(response.aiMessage().text(), partials, response);
    }
}
