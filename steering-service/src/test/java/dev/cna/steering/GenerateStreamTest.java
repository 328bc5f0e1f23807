package dev.cna.steering;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cna.devstack.DevKafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.cna.steering.TestPlatform.awaitCircuit;
import static dev.cna.steering.TestPlatform.circuit;
import static dev.cna.steering.TestPlatform.neuronsOfLayer;
import static dev.cna.steering.TestPlatform.publish;
import static dev.cna.steering.TestPlatform.request;
import static dev.cna.steering.TestPlatform.status;
import static dev.cna.steering.TestPlatform.url;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** POST /generate on the default model with the real broker: streaming, live and pinned swaps, batching, disconnects. */
@QuarkusTest
@QuarkusTestResource(DevKafkaTestResource.class)
class GenerateStreamTest {
    private static final String STORY = "Write a long story about a dragon who learns to bake bread.";
    /**
     * The service's max-tokens; greedy, the story runs that long. A test that waits for something to happen during a
     * stream asks for this many tokens and closes the stream once it has seen it: a stream of a few dozen tokens can
     * end, on a fast machine, before a circuit published to Kafka has reached the registry.
     */
    private static final int LONG = 1024;

    private static boolean isSwap(SseStream.Event e) {
        return e.name().equals("circuit");
    }

    @BeforeEach
    void ready() {
        TestPlatform.awaitReady();
    }

    private static Map<String, Long> versions(SseStream.Event e) {
        Map<String, Long> out = new java.util.HashMap<>();
        e.data().get("circuits").fields().forEachRemaining(f -> out.put(f.getKey(), f.getValue().asLong()));
        return out;
    }

    @Test
    void aGreedyStreamAnswersAndEndsWithDone() {
        try (SseStream s = SseStream.post(url("/generate"), request("What is the capital of France?", 32, null))) {
            assertEquals(200, s.status);
            List<SseStream.Event> events = s.rest();
            StringBuilder text = new StringBuilder();
            events.stream().filter(e -> e.name().equals("token")).forEach(e -> text.append(e.data().get("text").asText()));
            assertTrue(text.toString().contains("Paris"), text.toString());
            SseStream.Event done = events.get(events.size() - 1);
            assertEquals("done", done.name());
            assertEquals("stop", done.data().get("finish_reason").asText());
            JsonNode usage = done.data().get("usage");
            assertEquals(SseStream.tokenIds(events).length, usage.get("completion_tokens").asInt());
            assertEquals(usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt(), usage.get("total_tokens").asInt());
            assertTrue(done.data().get("timings").get("prefill_ms").asDouble() > 0);
            // token indexes count up from 0 without gaps
            int[] indexes = events.stream().filter(e -> e.name().equals("token") && e.data().has("token"))
                    .mapToInt(e -> e.data().get("index").asInt()).toArray();
            for (int i = 0; i < indexes.length; i++) {
                assertEquals(i, indexes[i]);
            }
        }
    }

    @Test
    void aStreamStartedWithoutItsCircuitPicksItUpWhenItIsPublished() {
        String name = "pickup-" + System.nanoTime();
        try (SseStream s = SseStream.post(url("/generate"), request(STORY, LONG, null, name, 0f))) {
            SseStream.Event third = s.awaitToken(2);
            assertEquals(Map.of(), versions(third), "no circuit yet");
            publish(circuit(name, 1, neuronsOfLayer(10, 0, 50)));
            JsonNode swap = s.awaitEvent("the swap", GenerateStreamTest::isSwap).data();
            assertEquals(name, swap.get("circuit").asText());
            assertTrue(swap.get("from").isNull());
            assertEquals(1, swap.get("to").asLong());
            int at = swap.get("index").asInt();
            assertTrue(at > 2, "the swap comes after the publication: " + at);
            s.awaitToken(at + 3);
            List<SseStream.Event> events = s.seen();
            assertEquals(1, events.stream().filter(GenerateStreamTest::isSwap).count(), "one swap: " + events);
            for (SseStream.Event e : events) {
                if (e.name().equals("token") && e.data().has("token")) {
                    int index = e.data().get("index").asInt();
                    assertEquals(index < at ? Map.of() : Map.of(name, 1L), versions(e), "token " + index);
                }
            }
            assertEquals(Map.of(name, 1L), versions(events.get(events.size() - 1)));
        }
    }

    @Test
    void pinnedKeepsTheVersionsSeenAtTheStartWhileLiveMovesOn() {
        String name = "pin-" + System.nanoTime();
        publish(circuit(name, 1, neuronsOfLayer(5, 0, 40)));
        awaitCircuit(name, 200, 1);
        try (SseStream pinned = SseStream.post(url("/generate"), request(STORY, LONG, "pinned", name, 0.5f));
             SseStream live = SseStream.post(url("/generate"), request(STORY, LONG, "live", name, 0.5f))) {
            pinned.awaitToken(1);
            live.awaitToken(1);
            publish(circuit(name, 2, neuronsOfLayer(5, 100, 40)));
            SseStream.Event swap = live.awaitEvent("the swap", GenerateStreamTest::isSwap);
            assertEquals(1, swap.data().get("from").asLong());
            assertEquals(2, swap.data().get("to").asLong());
            int at = swap.data().get("index").asInt();
            assertEquals(Map.of(name, 2L), versions(live.awaitToken(at)));
            // A pinned token that arrived after the live row's swap event may still be of the step before it (two
            // connections); two steps later it is past the swap for certain.
            SseStream.Event after = pinned.awaitEvent("a pinned token after the live swap",
                    e -> e.name().equals("token") && e.data().has("token") && e.receivedNanos() > swap.receivedNanos());
            pinned.awaitToken(after.data().get("index").asInt() + 2);
            List<SseStream.Event> pinnedEvents = pinned.seen();
            assertTrue(pinnedEvents.stream().noneMatch(GenerateStreamTest::isSwap), "pinned: no swap");
            pinnedEvents.stream().filter(e -> e.name().equals("token"))
                    .forEach(e -> assertEquals(Map.of(name, 1L), versions(e)));
        }
    }

    @Test
    void sixteenConcurrentStreamsWithDifferentCircuitsEachGiveWhatTheyGiveAlone() throws Exception {
        String[] prompts = {"What is the capital of France?", "Name three fruits.", "How do bees make honey?",
                "Write a haiku about rain.", "What is 12 times 12?", "Tell me about the moon.", "Why is the sky blue?",
                "Give me a tip for learning Java.", "What do cats eat?", "Describe a sunset.", "What is a noun?",
                "How far is the sun?", "Suggest a name for a dog.", "What is rain?", "Explain gravity simply.",
                "What is your favorite color?"};
        float[] multipliers = {0f, 3f, 0.5f, 5f};
        List<String> bodies = new ArrayList<>();
        String run = "mix" + System.nanoTime() + "-";
        for (int i = 0; i < 16; i++) {
            publish(circuit(run + i, 1, neuronsOfLayer((i * 2) % 30, 10 * i, 200)));
            bodies.add(request(prompts[i], 16, null, run + i, multipliers[i % 4]));
        }
        for (int i = 0; i < 16; i++) {
            awaitCircuit(run + i, 200, 1);
        }
        int[][] alone = new int[16][];
        for (int i = 0; i < 16; i++) {
            try (SseStream s = SseStream.post(url("/generate"), bodies.get(i))) {
                alone[i] = SseStream.tokenIds(s.rest());
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(16);
        AtomicInteger peak = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        try {
            CompletableFuture<?> watcher = CompletableFuture.runAsync(() -> {
                while (running.get()) {
                    peak.accumulateAndGet(status().getInt("scheduler.running"), Math::max);
                    TestPlatform.sleep(5); // the whole run may take a few hundred ms on a fast machine
                }
            });
            List<CompletableFuture<int[]>> together = new ArrayList<>();
            for (String body : bodies) {
                together.add(CompletableFuture.supplyAsync(() -> {
                    try (SseStream s = SseStream.post(url("/generate"), body)) {
                        return SseStream.tokenIds(s.rest());
                    }
                }, pool));
            }
            for (int i = 0; i < 16; i++) {
                assertArrayEquals(alone[i], together.get(i).get(), "stream " + i + " (" + prompts[i] + ")");
            }
            running.set(false);
            watcher.get();
        } finally {
            pool.shutdownNow();
        }
        assertTrue(peak.get() >= 8, "the streams shared the batch (peak " + peak.get() + " rows)");
        // The circuits steer: some replies differ from the same prompt unsteered.
        int changed = 0;
        for (int i = 0; i < 16; i++) {
            try (SseStream s = SseStream.post(url("/generate"), request(prompts[i], 16, null))) {
                changed += Arrays.equals(alone[i], SseStream.tokenIds(s.rest())) ? 0 : 1;
            }
        }
        assertTrue(changed >= 2, "steering changed " + changed + " of 16 replies");
    }

    @Test
    void aClientThatDisconnectsFreesItsSlotWithinOneToken() {
        SseStream s = SseStream.post(url("/generate"), request(STORY, 400, null));
        s.awaitToken(3);
        s.close();
        long stepsAtClose = status().getLong("scheduler.steps");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (status().getInt("scheduler.running") != 0) {
            assertTrue(System.nanoTime() < deadline, "slot still taken 10 s after the disconnect");
            TestPlatform.sleep(5);
        }
        long stepsAfter = status().getLong("scheduler.steps");
        assertTrue(stepsAfter - stepsAtClose <= 1, "decode steps after the disconnect: " + (stepsAfter - stepsAtClose));
    }
}
