package dev.cna.steering;

import dev.cna.core.runtime.BackendOptions;
import dev.cna.api.StreamEvent;
import dev.cna.api.Topics;
import dev.cna.core.circuit.CircuitJson;
import dev.cna.core.circuit.TestCircuits;
import dev.cna.core.generate.ReferenceDecoding;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.MemoryBudget;
import dev.cna.core.runtime.Backend;
import dev.cna.core.steer.CircuitStrength;
import dev.cna.core.steer.SteeringPlan;
import dev.cna.core.tokenizer.Tokenizer;
import dev.cna.devstack.DevKafka;
import dev.cna.devstack.KafkaClients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A circuit version published to the real broker in the middle of a greedy generation on a synthetic model
 * changes the tokens from the next step on and not before. The publication happens while the decode thread
 * waits inside the stream's sink, so "the middle" is an exact token.
 */
class HotSwapOnSyntheticModelTest {
    private static final String TOPIC = Topics.CIRCUITS;
    @TempDir
    static Path dir;
    private static DevKafka kafka;

    @BeforeAll
    static void broker() throws Exception {
        kafka = DevKafka.startTemporary();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, Optional.of(1), Optional.empty())
                    .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)))).all().get();
        }
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    @Test
    void aVersionPublishedMidGenerationSteersFromTheNextTokenOn() throws Exception {
        try (WeightSource source = ModelLoader.open(SyntheticModels.Spec.llama().write(dir).gguf());
             Backend model = BackendOptions.cpu().load(source);
             Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec())) {
            ModelConfig config = source.config();
            var circuit = TestCircuits.wide("wide", 1, config);
            int[] prompt = tokenizer.encode("he the in");
            int tokens = 12;
            int swapAt = 4; // published while token 3 is being delivered: token 4 is the first under version 1
            try (CircuitRegistry registry = new CircuitRegistry(kafka.bootstrapServers(), TOPIC, config, TestCircuits.FINGERPRINT);
                 Scheduler scheduler = new Scheduler(model, tokenizer, MemoryBudget.of(model.config(), 1L << 30, model.prefillChunk()), 4, 4)) {
                registry.start();
                await(registry::caughtUp);
                scheduler.start();

                List<StreamEvent> events = new ArrayList<>();
                CompletableFuture<Void> done = new CompletableFuture<>();
                GenerationJob.Sink sink = new GenerationJob.Sink() {
                    @Override
                    public void send(StreamEvent e) {
                        events.add(e);
                        if (e instanceof StreamEvent.Token t && t.token() != null && t.index() == swapAt - 1) {
                            publish(CircuitJson.write(circuit));
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
                assertTrue(scheduler.offer(job));
                done.get(60, TimeUnit.SECONDS);

                int[] generated = events.stream().filter(e -> e instanceof StreamEvent.Token t && t.token() != null)
                        .mapToInt(e -> ((StreamEvent.Token) e).token()).toArray();
                SteeringPlan plan = SteeringPlan.compile(List.of(new CircuitStrength(circuit, 6f)), config, TestCircuits.FINGERPRINT);
                int[] unsteered = ReferenceDecoding.greedy(model, prompt, tokens, n -> SteeringPlan.NONE);
                int[] expected = ReferenceDecoding.greedy(model, prompt, tokens, n -> n < swapAt ? SteeringPlan.NONE : plan);
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
        }
    }

    private static void publish(String value) {
        try {
            KafkaClients.produce(kafka.bootstrapServers(), TOPIC, "wide", value);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
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
