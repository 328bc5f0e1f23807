package dev.cna.steering;

import dev.cna.api.StreamEvent;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.CircuitJson;
import dev.cna.core.circuit.TestCircuits;
import dev.cna.core.generate.ReferenceDecoding;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.steer.CircuitStrength;
import dev.cna.core.steer.SteeringPlan;
import dev.cna.devstack.DevKafkaTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A circuit version published to the real broker in the middle of a greedy generation on a synthetic model
 * changes the tokens from the next step on and not before. The service runs on the synthetic model; the version
 * reaches its registry through the circuits channel while the decode thread waits inside the stream's sink, so
 * "the middle" is an exact token.
 */
@QuarkusTest
@QuarkusTestResource(DevKafkaTestResource.class)
@TestProfile(HotSwapOnSyntheticModelTest.SyntheticModel.class)
class HotSwapOnSyntheticModelTest {
    /** steering-service on a synthetic Llama written for the test. */
    public static class SyntheticModel implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "synthetic-");
                return Map.of("cna.model", SyntheticModels.Spec.llama().write(dir).gguf().toString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Inject
    SteeringRuntime runtime;

    @Test
    void aVersionPublishedMidGenerationSteersFromTheNextTokenOn() throws Exception {
        TestPlatform.awaitReady();
        LoadedModel model = runtime.model();
        ModelConfig config = model.config();
        Circuit circuit = ofModel(TestCircuits.wide("wide", 1, config), model.fingerprint());
        int[] prompt = model.tokenizer().encode("he the in");
        int tokens = 12;
        int swapAt = 4; // published while token 3 is being delivered: token 4 is the first under version 1
        CircuitRegistry registry = runtime.registry();
        List<StreamEvent> events = new ArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        GenerationJob.Sink sink = new GenerationJob.Sink() {
            @Override
            public void send(StreamEvent e) {
                events.add(e);
                if (e instanceof StreamEvent.Token t && t.token() != null && t.index() == swapAt - 1) {
                    TestPlatform.publish("wide", CircuitJson.write(circuit));
                    await(() -> registry.get("wide").isPresent());
                }
            }

            @Override
            public void end() {
                done.complete(null);
            }
        };
        List<Long> latencies = new ArrayList<>();
        GenerationJob job = new GenerationJob(prompt, SamplingParams.greedy(tokens),
                List.of(new GenerationJob.Steering("wide", 6f)), GenerationJob.Mode.LIVE, registry, config.layers(),
                sink, latencies::add);
        assertTrue(runtime.scheduler().offer(job));
        done.get(60, TimeUnit.SECONDS);

        int[] generated = events.stream().filter(e -> e instanceof StreamEvent.Token t && t.token() != null)
                .mapToInt(e -> ((StreamEvent.Token) e).token()).toArray();
        SteeringPlan plan = SteeringPlan.compile(List.of(new CircuitStrength(circuit, 6f)), config, model.fingerprint());
        int[] unsteered = ReferenceDecoding.greedy(model.backend(), prompt, tokens, n -> SteeringPlan.NONE);
        int[] expected = ReferenceDecoding.greedy(model.backend(), prompt, tokens, n -> n < swapAt ? SteeringPlan.NONE : plan);
        assertArrayEquals(expected, generated);
        assertArrayEquals(Arrays.copyOf(unsteered, swapAt), Arrays.copyOf(generated, swapAt), "nothing changes before");
        assertFalse(Arrays.equals(unsteered, generated), "the new version changes the tokens after the swap");

        // The events say when: one circuit event at the swap, and every token names its versions.
        List<StreamEvent.CircuitSwap> swaps = events.stream().filter(e -> e instanceof StreamEvent.CircuitSwap)
                .map(e -> (StreamEvent.CircuitSwap) e).toList();
        assertEquals(List.of(new StreamEvent.CircuitSwap(swapAt, "wide", null, 1L)), swaps);
        for (StreamEvent e : events) {
            if (e instanceof StreamEvent.Token t && t.token() != null) {
                assertEquals(t.index() < swapAt ? Map.of() : Map.of("wide", 1L), t.circuits(), "token " + t.index());
            }
        }
        assertEquals(1, latencies.size());
        assertTrue(latencies.get(0) >= 0, "swap latency " + latencies);
        StreamEvent.Done last = (StreamEvent.Done) events.get(events.size() - 1);
        assertEquals(Map.of("wide", 1L), last.circuits());
    }

    /** The circuit as made for the given model fingerprint (TestCircuits makes it for its own). */
    private static Circuit ofModel(Circuit c, String fingerprint) {
        return new Circuit(c.schema(), c.name(), c.version(), new Circuit.Model(c.model().id(), fingerprint, c.model().layers(),
                c.model().intermediateSize()), c.method(), c.neurons(), c.stats(), c.createdAt(), c.source());
    }

    private static void await(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 30 s");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
