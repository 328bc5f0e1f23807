package dev.cna.core.generate;

import dev.cna.core.runtime.torch.TorchBackend;
import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.TestCircuits;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.MemoryBudget;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.torch.WeightStorage;
import dev.cna.core.steer.CircuitStrength;
import dev.cna.core.steer.SteeringPlan;
import dev.cna.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

import static dev.cna.core.circuit.TestCircuits.FINGERPRINT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Continuous batching on a tiny synthetic model: join and leave at token boundaries, per-row steering, swaps, cancel. */
class ContinuousBatchTest {
    @TempDir
    static Path dir;
    private WeightSource source;
    private Backend model;
    private Tokenizer tokenizer;
    private ModelConfig config;
    private MemoryBudget budget;

    @BeforeEach
    void load() {
        source = ModelLoader.open(SyntheticModels.Spec.llama().write(dir).gguf());
        model = TorchBackend.load(source, WeightStorage.F32);
        tokenizer = Tokenizer.create(source.tokenizerSpec());
        config = source.config();
        budget = MemoryBudget.of(config, 1L << 30, model.prefillChunk());
    }

    @AfterEach
    void close() {
        tokenizer.close();
        model.close();
        source.close();
    }

    /** A test sequence: records its tokens; its steering comes from a function of how many tokens it has. */
    static class Recorder implements ContinuousBatch.Sequence {
        final int[] prompt;
        final SamplingParams params;
        final IntFunction<SteeringPlan> steering;
        final List<Integer> tokens = new ArrayList<>();
        volatile boolean cancelled;
        Generation done;
        RuntimeException error;

        Recorder(int[] prompt, SamplingParams params, IntFunction<SteeringPlan> steering) {
            this.prompt = prompt;
            this.params = params;
            this.steering = steering;
        }

        @Override public int[] prompt() { return prompt; }
        @Override public SamplingParams params() { return params; }
        @Override public SteeringPlan steering() { return steering.apply(tokens.size()); }
        @Override public boolean cancelled() { return cancelled; }
        @Override public boolean onToken(int token, String text) {
            if (token >= 0) {
                tokens.add(token);
            }
            return true;
        }
        @Override public void onFinish(Generation generation) { done = generation; }
        @Override public void onError(RuntimeException e) { error = e; }
    }

    private Generation alone(int[] prompt, SamplingParams params) {
        return new Generator(model, tokenizer).generate(List.of(prompt), List.of(params), null, null).get(0);
    }

    @Test
    void rowsJoiningAndLeavingAtAnyStepGetWhatTheyGetAlone() {
        List<Recorder> all = List.of(
                new Recorder(tokenizer.encode("the cat in a hat"), SamplingParams.greedy(9), n -> SteeringPlan.NONE),
                new Recorder(tokenizer.encode("a"), new SamplingParams(1.5f, 0, 1f, 7, 14, List.of()), n -> SteeringPlan.NONE),
                new Recorder(tokenizer.encode("he the in"), SamplingParams.greedy(5), n -> SteeringPlan.NONE),
                new Recorder(tokenizer.encode("in a the cat he"), new SamplingParams(1.2f, 5, 0.9f, 3, 11, List.of()), n -> SteeringPlan.NONE),
                new Recorder(tokenizer.encode("t"), SamplingParams.greedy(1), n -> SteeringPlan.NONE));
        try (ContinuousBatch batch = new ContinuousBatch(model, tokenizer, budget)) {
            batch.join(List.of(all.get(0)));
            batch.step();
            batch.step();
            batch.join(List.of(all.get(1), all.get(2)));
            assertEquals(1, batch.size(), "joining rows are prefilled by the next step");
            for (int i = 0; i < 3; i++) {
                batch.step();
                assertEquals(3, batch.size());
            }
            batch.join(List.of(all.get(3), all.get(4))); // the last one is done after its first token
            while (!batch.isEmpty()) {
                batch.step();
            }
        }
        for (int i = 0; i < all.size(); i++) {
            Recorder r = all.get(i);
            assertNotNull(r.done, "sequence " + i + " finished");
            Generation expected = alone(r.prompt, r.params);
            assertArrayEquals(expected.tokens(), r.done.tokens(), "sequence " + i);
            assertEquals(expected.text(), r.done.text(), "sequence " + i);
            assertEquals(expected.finishReason(), r.done.finishReason(), "sequence " + i);
        }
    }

    @Test
    void eachRowSteersByItsOwnPlan() {
        Circuit wide = TestCircuits.wide("wide", 1, config);
        SteeringPlan ablate = SteeringPlan.compile(List.of(new CircuitStrength(wide, 0f)), config, FINGERPRINT);
        SteeringPlan amplify = SteeringPlan.compile(List.of(new CircuitStrength(wide, 6f)), config, FINGERPRINT);
        int[] prompt = tokenizer.encode("the cat in a hat");
        List<Recorder> rows = List.of(
                new Recorder(prompt, SamplingParams.greedy(12), n -> ablate),
                new Recorder(prompt, SamplingParams.greedy(12), n -> SteeringPlan.NONE),
                new Recorder(prompt, SamplingParams.greedy(12), n -> amplify));
        try (ContinuousBatch batch = new ContinuousBatch(model, tokenizer, budget)) {
            batch.join(rows);
            while (!batch.isEmpty()) {
                batch.step();
            }
        }
        List<SteeringPlan> plans = List.of(ablate, SteeringPlan.NONE, amplify);
        for (int r = 0; r < rows.size(); r++) {
            SteeringPlan plan = plans.get(r);
            assertArrayEquals(ReferenceDecoding.greedy(model, prompt, 12, n -> plan), rows.get(r).done.tokens(), "row " + r);
        }
        assertFalse(Arrays.equals(rows.get(0).done.tokens(), rows.get(1).done.tokens()), "ablation changes the reply");
        assertFalse(Arrays.equals(rows.get(2).done.tokens(), rows.get(1).done.tokens()), "amplification changes the reply");
    }

    @Test
    void aPlanSwappedMidGenerationChangesTheTokensFromTheNextStepOnAndNotBefore() {
        SteeringPlan amplify = amplify();
        int[] prompt = tokenizer.encode("he the in");
        int swapAfter = 4; // the plan arrives once the row has 4 tokens: it steers the pass that makes token 5
        IntFunction<SteeringPlan> swap = n -> n < swapAfter ? SteeringPlan.NONE : amplify;
        Recorder swapped = new Recorder(prompt, SamplingParams.greedy(12), swap);
        Recorder neighbour = new Recorder(tokenizer.encode("a"), SamplingParams.greedy(12), n -> SteeringPlan.NONE);
        try (ContinuousBatch batch = new ContinuousBatch(model, tokenizer, budget)) {
            batch.join(List.of(neighbour, swapped));
            while (!batch.isEmpty()) {
                batch.step();
            }
            assertEquals(0, batch.preemptedPasses(), "a plan that changes between steps stops no pass");
        }
        int[] unsteered = alone(prompt, SamplingParams.greedy(12)).tokens();
        int[] tokens = swapped.done.tokens();
        assertArrayEquals(Arrays.copyOf(unsteered, swapAfter), Arrays.copyOf(tokens, swapAfter), "before the swap");
        assertFalse(Arrays.equals(Arrays.copyOfRange(unsteered, swapAfter, 12), Arrays.copyOfRange(tokens, swapAfter, 12)),
                "the swap changes what follows");
        assertArrayEquals(ReferenceDecoding.greedy(model, prompt, 12, swap), tokens, "the swap takes effect exactly from the next step");
        assertArrayEquals(alone(tokenizer.encode("a"), SamplingParams.greedy(12)).tokens(), neighbour.done.tokens(),
                "the other row is not steered");
    }

    /** Every neuron of a wide test circuit scaled by 6: changes the synthetic model's tokens. */
    private SteeringPlan amplify() {
        return SteeringPlan.compile(List.of(new CircuitStrength(TestCircuits.wide("wide", 1, config), 6f)), config, FINGERPRINT);
    }

    /** A row's steering that turns to {@code after} at its armed-th ask (counted once armed), and stays there. */
    static IntFunction<SteeringPlan> flipsAtAsk(int[] armed, SteeringPlan after) {
        boolean[] flipped = {false};
        return n -> {
            if (!flipped[0] && armed[0] > 0 && --armed[0] == 0) {
                flipped[0] = true;
            }
            return flipped[0] ? after : SteeringPlan.NONE;
        };
    }

    /**
     * Greedy tokens with the plan from token {@code at} on, checked to differ at {@code at} from the plan one token
     * later: only a batch that steers token {@code at} itself gives them.
     */
    private int[] steeredFrom(int[] prompt, int maxTokens, int at, SteeringPlan plan) {
        int[] expected = ReferenceDecoding.greedy(model, prompt, maxTokens, n -> n < at ? SteeringPlan.NONE : plan);
        int[] oneLater = ReferenceDecoding.greedy(model, prompt, maxTokens, n -> n <= at ? SteeringPlan.NONE : plan);
        assertNotEquals(expected[at], oneLater[at], "the plan changes token " + at + " itself");
        return expected;
    }

    @Test
    void aPlanThatChangesDuringADecodeStepPreemptsItAndSteersTheTokenBeingComputed() {
        SteeringPlan amplify = amplify();
        int[] prompt = tokenizer.encode("he the in");
        int[] armed = {0};
        Recorder swapped = new Recorder(prompt, SamplingParams.greedy(12), flipsAtAsk(armed, amplify));
        Recorder neighbour = new Recorder(tokenizer.encode("a"), SamplingParams.greedy(12), n -> SteeringPlan.NONE);
        int swapAt = 4;
        try (ContinuousBatch batch = new ContinuousBatch(model, tokenizer, budget)) {
            batch.join(List.of(neighbour, swapped));
            while (swapped.tokens.size() < swapAt) {
                batch.step();
            }
            // the step's asks: 1 to build the hook, then one before each layer: the 3rd is inside the pass
            armed[0] = 3;
            assertEquals(2, batch.step(), "both rows still get their token");
            assertEquals(1, batch.preemptedPasses());
            while (!batch.isEmpty()) {
                batch.step();
            }
            assertEquals(1, batch.preemptedPasses());
        }
        assertArrayEquals(steeredFrom(prompt, 12, swapAt, amplify), swapped.done.tokens(),
                "the token being computed when the plan changed is the new plan's; nothing before it changed");
        assertArrayEquals(alone(tokenizer.encode("a"), SamplingParams.greedy(12)).tokens(), neighbour.done.tokens(),
                "the other row, run again in the preempted step, is as if alone");
    }

    @Test
    void aPlanThatChangesDuringAPrefillChunkStopsTheChunkSoTheRunningRowsDecodeFirst() {
        SteeringPlan amplify = amplify();
        int[] prompt = tokenizer.encode("he the in");
        int[] armed = {0};
        Recorder running = new Recorder(prompt, SamplingParams.greedy(10), flipsAtAsk(armed, amplify));
        Recorder joining = new Recorder(tokenizer.encode("the cat in a hat"), SamplingParams.greedy(6), n -> SteeringPlan.NONE);
        try (ContinuousBatch batch = new ContinuousBatch(model, tokenizer, budget)) {
            batch.join(List.of(running));
            batch.step();
            batch.step();
            int swapAt = running.tokens.size();
            batch.join(List.of(joining));
            armed[0] = 2; // the joining prompt's chunk asks the running row before each layer: the 2nd is inside it
            assertEquals(1, batch.step(), "the running row decoded; the stopped chunk gave no first token");
            assertEquals(1, batch.preemptedPasses());
            assertEquals(1, batch.prefilling(), "the chunk runs again at the next step");
            while (!batch.isEmpty()) {
                batch.step();
            }
            assertEquals(1, batch.preemptedPasses());
            assertArrayEquals(steeredFrom(prompt, 10, swapAt, amplify), running.done.tokens(),
                    "the decode right after the stopped chunk is the new plan's");
        }
        assertArrayEquals(alone(joining.prompt, joining.params).tokens(), joining.done.tokens(), "the prefill run again is whole");
    }

    @Test
    void aCancelledRowLeavesBeforeTheNextStepWithoutAnotherToken() {
        Recorder stays = new Recorder(tokenizer.encode("the cat"), SamplingParams.greedy(20), n -> SteeringPlan.NONE);
        Recorder leaves = new Recorder(tokenizer.encode("a hat"), SamplingParams.greedy(20), n -> SteeringPlan.NONE);
        try (ContinuousBatch batch = new ContinuousBatch(model, tokenizer, budget)) {
            batch.join(List.of(stays, leaves));
            batch.step();
            int before = leaves.tokens.size();
            leaves.cancelled = true;
            batch.step();
            assertEquals(1, batch.size());
            assertEquals(before, leaves.tokens.size());
            assertEquals(FinishReason.CANCELLED, leaves.done.finishReason());
            while (!batch.isEmpty()) {
                batch.step();
            }
        }
        assertArrayEquals(alone(tokenizer.encode("the cat"), SamplingParams.greedy(20)).tokens(), stays.done.tokens());
    }

    @Test
    void aPromptThatFillsTheContextIsRefusedBeforeAnythingRuns() {
        int[] huge = new int[config.contextLength()];
        Arrays.fill(huge, 5);
        try (ContinuousBatch batch = new ContinuousBatch(model, tokenizer, budget)) {
            Recorder r = new Recorder(huge, SamplingParams.greedy(3), n -> SteeringPlan.NONE);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> batch.join(List.of(r)));
            assertTrue(e.getMessage().contains(String.valueOf(config.contextLength())), e.getMessage());
            assertEquals(0, batch.size());
        }
    }

    @Test
    void aLongPromptIsPrefilledInChunksWhileRunningRowsKeepDecoding() {
        model.setPrefillChunk(2);
        Recorder running = new Recorder(tokenizer.encode("a"), SamplingParams.greedy(30), n -> SteeringPlan.NONE);
        int[] longPrompt = tokenizer.encode("the cat in a hat he the in a cat the hat in he a the");
        Recorder joining = new Recorder(longPrompt, SamplingParams.greedy(4), n -> SteeringPlan.NONE);
        try (ContinuousBatch batch = new ContinuousBatch(model, tokenizer, budget)) {
            batch.join(List.of(running));
            batch.step();
            batch.join(List.of(joining));
            int chunks = 0;
            while (batch.prefilling() > 0) {
                int before = running.tokens.size();
                batch.step();
                chunks++;
                assertEquals(before + 1, running.tokens.size(), "the running row gets a token beside every chunk");
            }
            assertEquals((longPrompt.length + 1) / 2, chunks, "two prompt positions per chunk");
            while (!batch.isEmpty()) {
                batch.step();
            }
        }
        assertArrayEquals(alone(running.prompt, running.params).tokens(), running.done.tokens());
        assertArrayEquals(alone(longPrompt, joining.params).tokens(), joining.done.tokens());
    }

    @Test
    void aPrefillWhoseSequenceIsCancelledStopsAtTheNextChunk() {
        model.setPrefillChunk(2);
        Recorder abandoned = new Recorder(tokenizer.encode("the cat in a hat he the in a cat"), SamplingParams.greedy(4),
                n -> SteeringPlan.NONE);
        try (ContinuousBatch batch = new ContinuousBatch(model, tokenizer, budget)) {
            batch.join(List.of(abandoned));
            batch.step();
            assertEquals(1, batch.prefilling());
            abandoned.cancelled = true;
            batch.step();
            assertTrue(batch.isEmpty(), "the prefill is dropped");
            assertEquals(FinishReason.CANCELLED, abandoned.done.finishReason());
            assertTrue(abandoned.tokens.isEmpty());
        }
    }

    @Test
    void admissionCountsEveryRowAtItsLongest() {
        // 1 byte of KV per token and row, no scratch: room for two rows of 5 prompt + 15 reply tokens, not three.
        MemoryBudget tiny = new MemoryBudget(40, 1, 0, config.contextLength());
        int[] five = {5, 6, 7, 8, 9};
        Recorder first = new Recorder(five, SamplingParams.greedy(15), n -> SteeringPlan.NONE);
        Recorder second = new Recorder(five, SamplingParams.greedy(15), n -> SteeringPlan.NONE);
        Recorder third = new Recorder(new int[] {5}, SamplingParams.greedy(3), n -> SteeringPlan.NONE);
        try (ContinuousBatch batch = new ContinuousBatch(model, tokenizer, tiny)) {
            assertTrue(batch.fits(first, List.of()));
            assertTrue(batch.fits(second, List.of(first)));
            assertFalse(batch.fits(third, List.of(first, second)), "a third row pads to the longest: 3 x 20 > 40");
            batch.join(List.of(first, second));
            batch.step();
            assertFalse(batch.fits(third, List.of()), "rows in the batch count as well");
        }
    }
}
