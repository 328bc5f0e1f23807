package dev.cna.steering;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cna.devstack.DevKafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static dev.cna.steering.TestPlatform.request;
import static dev.cna.steering.TestPlatform.status;
import static dev.cna.steering.TestPlatform.url;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Long prompts on the default model over HTTP: memory stays within the budget, running streams keep their pace
 * while a long prompt is prefilled, and an abandoned prefill stops.
 */
@QuarkusTest
@QuarkusTestResource(DevKafkaTestResource.class)
class LongPromptTest {
    private static final long GIB = 1L << 30;

    @BeforeEach
    void ready() {
        TestPlatform.awaitReady();
    }

    /** A raw prompt of about n tokens (" x" is one token of this model's vocabulary). */
    private static String rawRequest(int n, int maxTokens) {
        ObjectNode body = TestPlatform.JSON.createObjectNode();
        body.put("prompt", "x" + " x".repeat(n - 1)).put("max_tokens", maxTokens).put("temperature", 0);
        return body.toString();
    }

    private static int promptTokens(List<SseStream.Event> events) {
        SseStream.Event done = events.get(events.size() - 1);
        assertEquals("done", done.name(), events.toString());
        return done.data().get("usage").get("prompt_tokens").asInt();
    }

    @Test
    void anEightThousandTokenPromptStaysWithinTheMemoryBudgetAndTheServiceGoesOn() throws Exception {
        long budget = status().getLong("memory.budgetMiB") << 20;
        long before = rss();
        AtomicLong peak = new AtomicLong(before);
        AtomicBoolean sampling = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (sampling.get()) {
                peak.accumulateAndGet(rss(), Math::max);
                TestPlatform.sleep(20);
            }
        });
        sampler.start();
        List<SseStream.Event> events;
        try (SseStream s = SseStream.post(url("/generate"), rawRequest(8000, 4))) {
            assertEquals(200, s.status);
            events = s.rest();
        } finally {
            sampling.set(false);
            sampler.join();
        }
        int tokens = promptTokens(events);
        assertTrue(tokens >= 7900 && tokens <= 8100, "prompt tokens " + tokens);
        List<SseStream.Event> progress = events.stream().filter(e -> e.name().equals("prefill")).toList();
        assertEquals((tokens + 255) / 256, progress.size(), "one prefill event per chunk of 256");
        assertEquals(tokens, progress.get(progress.size() - 1).data().get("done").asInt());
        long grew = peak.get() - before;
        System.out.printf("8,000-token prompt: RSS %.2f GiB before, peak %.2f GiB (+%.2f GiB; budget %.2f GiB)%n",
                before / (double) GIB, peak.get() / (double) GIB, grew / (double) GIB, budget / (double) GIB);
        // This JVM also runs the broker and the other tests, so the bound is on what the request adds; the packaged
        // service's whole-life peak is bounded in the gateway's LongPromptStackTest.
        assertTrue(grew < budget, "the request added " + grew + " bytes of resident memory, budget " + budget);
        try (SseStream next = SseStream.post(url("/generate"), request("What is the capital of France?", 8, null))) {
            List<SseStream.Event> after = next.rest();
            assertEquals("done", after.get(after.size() - 1).name(), "the next request is served");
        }
    }

    @Test
    void aRunningStreamKeepsGettingTokensWhileALongPromptIsPrefilled() {
        // As many tokens as the service allows (closed at the end): the stream must outlast the long prefill on any machine.
        try (SseStream running = SseStream.post(url("/generate"), request("Write a long story about a dragon.", 1024, null))) {
            running.awaitToken(2);
            long arrived = System.nanoTime();
            List<SseStream.Event> longEvents;
            try (SseStream joining = SseStream.post(url("/generate"), rawRequest(2000, 2))) {
                SseStream.Event first = joining.awaitToken(0);
                longEvents = joining.rest();
                long firstToken = first.receivedNanos();
                running.awaitEvent("a token after the long prompt's first", e -> e.receivedNanos() > firstToken);
                List<SseStream.Event> runningEvents = running.seen();
                long during = runningEvents.stream().filter(e -> e.name().equals("token")
                        && e.receivedNanos() > arrived && e.receivedNanos() < firstToken).count();
                System.out.printf("2,000-token prompt: first token after %.1f s, running stream got %d tokens meanwhile%n",
                        (firstToken - arrived) / 1e9, during);
                // 2,000 positions are 8 chunks of 256: a token after each of them, and decode steps while it waits.
                assertTrue(during >= 4, "the running stream got " + during + " tokens during the long prompt's prefill");
            }
            assertTrue(promptTokens(longEvents) >= 1990, "the long prompt was prefilled whole");
        }
    }

    @Test
    void aPrefillWhoseClientLeftStopsAndTheNextRequestIsServed() {
        long before = status().getLong("scheduler.prefilledPositions");
        int longPrompt = 6000;
        try (SseStream abandoned = SseStream.post(url("/generate"), rawRequest(longPrompt, 4))) {
            assertEquals(200, abandoned.status);
            awaitPrefilling();
        }
        List<SseStream.Event> events;
        try (SseStream next = SseStream.post(url("/generate"), request("What is the capital of France?", 8, null))) {
            events = next.rest();
        }
        assertEquals("done", events.get(events.size() - 1).name(), events.toString());
        long ran = status().getLong("scheduler.prefilledPositions") - before;
        System.out.printf("abandoned %d-token prefill: %d positions run in all (the next request included)%n", longPrompt, ran);
        assertTrue(ran < longPrompt, "the abandoned prefill ran " + ran + " positions: it was not stopped");
        assertEquals(0, status().getInt("scheduler.prefilling"));
    }

    private static void awaitPrefilling() {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (status().getInt("scheduler.prefilling") == 0) {
            assertTrue(System.nanoTime() < deadline, "the long prompt never started its prefill");
            TestPlatform.sleep(20);
        }
    }

    private static long rss() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
