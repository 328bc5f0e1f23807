package dev.cna.gateway;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An 8,000-token prompt through the gateway to the packaged steering-service (a child JVM, as in production): it is
 * answered, the service's peak resident memory over its whole life (VmHWM, so every other test on this stack counts
 * too) stays under the ceiling steering-service/README.md documents, and the next chat is served.
 */
@QuarkusTest
@WithTestResource(SteeringStack.class)
class LongPromptStackTest {
    private static final double GIB = 1L << 30;

    @Test
    void anEightThousandTokenPromptIsAnsweredWithinTheDocumentedMemory() throws Exception {
        String body = "{\"prompt\": \"x" + " x".repeat(7999) + "\", \"max_tokens\": 4, \"temperature\": 0}";
        List<SseStream.Event> events;
        try (SseStream s = SseStream.post(Platform.url("/api/generate"), Platform.CHAT_KEY, body)) {
            assertEquals(200, s.status());
            events = s.rest();
        }
        SseStream.Event done = events.get(events.size() - 1);
        assertEquals("done", done.name(), events.toString());
        int promptTokens = Platform.JSON.readTree(done.data()).get("usage").get("prompt_tokens").asInt();
        assertTrue(promptTokens >= 7900, "prompt tokens " + promptTokens);

        long pid = ConfigProvider.getConfig().getValue("cna.stack.steering-pid", Long.class);
        long budget = Platform.steeringStatus().getLong("memory.budgetMiB") << 20;
        long peak = statusKib(pid, "VmHWM:") * 1024;
        // README: resident memory stays under weights (0.55 GB f32 for the default model) + budget + 0.8 GB of JVM and runtime.
        double ceiling = 0.55e9 + budget + 0.8 * GIB;
        System.out.printf("steering-service peak RSS %.2f GiB (ceiling %.2f GiB) after an 8,000-token prompt%n", peak / GIB, ceiling / GIB);
        assertTrue(peak < ceiling, "steering-service peaked at " + peak + " bytes, documented ceiling " + (long) ceiling);

        try (SseStream next = SseStream.post(Platform.url("/v1/chat/completions"), Platform.CHAT_KEY,
                Platform.chat("What is the capital of France?", 8, "\"stream\": true"))) {
            assertEquals(200, next.status());
            assertTrue(next.rest().stream().anyMatch(e -> e.data().equals("[DONE]")), "the next chat is served");
        }
    }

    private static long statusKib(long pid, String field) throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith(field)) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException(field + " missing for pid " + pid);
    }
}
