package dev.cna.core.generate;

import dev.cna.core.circuit.TestCircuits;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.MemoryBudget;
import dev.cna.core.runtime.NeuronScaling;
import dev.cna.core.runtime.torch.TorchBackend;
import dev.cna.core.runtime.torch.WeightStorage;
import dev.cna.core.steer.CircuitStrength;
import dev.cna.core.steer.SteeringPlan;
import dev.cna.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.cna.core.circuit.TestCircuits.FINGERPRINT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Log-probabilities, teacher-forced scoring, penalties, logit bias and min-p, on a synthetic model where one is needed. */
class SamplingControlsTest {
    @TempDir
    static Path dir;
    static WeightSource source;
    static Backend model;
    static Tokenizer tokenizer;
    static ModelConfig config;

    @BeforeAll
    static void load() {
        source = ModelLoader.open(SyntheticModels.Spec.llama().write(dir).gguf());
        model = TorchBackend.load(source, WeightStorage.F32);
        tokenizer = Tokenizer.create(source.tokenizerSpec());
        config = source.config();
    }

    @AfterAll
    static void close() {
        tokenizer.close();
        model.close();
        source.close();
    }

    /** log softmax in doubles, the reference. */
    private static double logSoftmax(float[] logits, int id) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        return logits[id] - max - Math.log(sum);
    }

    @Test
    void logprobsAreTheLogSoftmaxAndTheTopComeSortedWithTiesByLowerId() {
        float[] logits = {1f, 3f, 5f, 5f, -2f, 0.5f};
        TokenLogprobs lp = Logprobs.of(logits, 1, 4);
        assertEquals(logSoftmax(logits, 1), lp.logprob(), 1e-6);
        assertEquals(List.of(2, 3, 1, 0), lp.top().stream().map(TokenLogprobs.Alternative::token).toList());
        assertEquals(logSoftmax(logits, 2), lp.top().get(0).logprob(), 1e-6);
        assertEquals(0, Logprobs.of(logits, 4, 0).top().size());
    }

    @Test
    void scoringABatchEqualsTeacherForcingEachPromptAloneSteeredAndNot() {
        List<int[]> prompts = List.of(tokenizer.encode("the cat in a hat"), tokenizer.encode("he"), tokenizer.encode("a the in cat"));
        SteeringPlan amplify = SteeringPlan.compile(List.of(new CircuitStrength(TestCircuits.wide("wide", 1, config), 6f)), config, FINGERPRINT);
        for (SteeringPlan plan : List.of(SteeringPlan.NONE, amplify)) {
            NeuronScaling batchHook = SteeringPlan.hook(prompts.stream().map(p -> plan).toList(), config);
            List<List<TokenLogprobs>> scored = Scorer.score(model, prompts, batchHook, 3);
            for (int r = 0; r < prompts.size(); r++) {
                int[] p = prompts.get(r);
                NeuronScaling oneHook = SteeringPlan.hook(List.of(plan), config);
                float[][] alone = model.logitsAtEveryPosition(p, oneHook);
                assertNull(scored.get(r).get(0), "the first token has no prediction");
                for (int i = 1; i < p.length; i++) {
                    assertEquals(logSoftmax(alone[i - 1], p[i]), scored.get(r).get(i).logprob(), 1e-4, "prompt " + r + " position " + i);
                    assertEquals(3, scored.get(r).get(i).top().size());
                }
            }
        }
        NeuronScaling hook = SteeringPlan.hook(List.of(amplify), config);
        assertNotEquals(Scorer.score(model, prompts.subList(0, 1), null, 0).get(0).get(3).logprob(),
                Scorer.score(model, prompts.subList(0, 1), hook, 0).get(0).get(3).logprob(), "steering applies at every position");
    }

    /** A sequence that keeps what the batch gives it. */
    static final class Recorder extends ContinuousBatchTest.Recorder {
        final List<TokenLogprobs> logprobs = new ArrayList<>();

        Recorder(int[] prompt, SamplingParams params) {
            super(prompt, params, n -> SteeringPlan.NONE);
        }

        @Override
        public boolean onToken(int token, String text, TokenLogprobs lp) {
            if (token >= 0) {
                logprobs.add(lp);
            }
            return onToken(token, text);
        }
    }

    @Test
    void generatedTokensCarryTheirTeacherForcedLogprobsBeforeTemperatureAndPenalties() {
        int[] prompt = tokenizer.encode("the cat in");
        SamplingControls controls = new SamplingControls(0.5f, 0.3f, 1.3f, 0.05f, Map.of(7, 2f), 5);
        Recorder row = new Recorder(prompt, new SamplingParams(1.3f, 0, 1f, 11, 8, List.of(), controls));
        try (ContinuousBatch batch = new ContinuousBatch(model, tokenizer, MemoryBudget.of(config, 1L << 30, model.prefillChunk()))) {
            batch.join(List.of(row));
            while (!batch.isEmpty()) {
                batch.step();
            }
        }
        int[] all = new int[prompt.length + row.tokens.size()];
        System.arraycopy(prompt, 0, all, 0, prompt.length);
        for (int i = 0; i < row.tokens.size(); i++) {
            all[prompt.length + i] = row.tokens.get(i);
        }
        float[][] forced = model.logitsAtEveryPosition(all, null);
        assertTrue(row.tokens.size() > 1);
        for (int i = 0; i < row.tokens.size(); i++) {
            TokenLogprobs lp = row.logprobs.get(i);
            assertEquals(row.tokens.get(i), lp.token());
            assertEquals(logSoftmax(forced[prompt.length - 1 + i], lp.token()), lp.logprob(), 1e-4, "token " + i);
            assertEquals(5, lp.top().size());
            assertEquals(Sampler.argMax(forced[prompt.length - 1 + i]), lp.top().get(0).token());
        }
    }

    @Test
    void penaltiesAndBiasChangeTheLogitsAsOpenAiAndVllmDefineThem() {
        float[] logits = {2f, -1f, 0.5f, 3f};
        LogitControls controls = new LogitControls(new SamplingControls(0.5f, 0.25f, 2f, 0, Map.of(2, -100f), -1), new int[] {0});
        controls.accept(1);
        controls.accept(1);
        controls.accept(3);
        float[] out = controls.apply(logits);
        assertEquals(1f, out[0], 1e-6, "prompt token, positive: divided by the repetition penalty");
        assertEquals(-1f * 2 - 0.25f * 2 - 0.5f, out[1], 1e-6, "twice generated, negative: multiplied, then frequency x2 and presence");
        assertEquals(0.5f - 100f, out[2], 1e-6, "bias");
        assertEquals(3f / 2 - 0.25f - 0.5f, out[3], 1e-6);
        assertEquals(2f, logits[0], "the model's logits are not touched");
        assertEquals(3, Sampler.argMax(logits));
        assertEquals(0, new Sampler(SamplingParams.greedy(1)).next(new LogitControls(
                new SamplingControls(0, 0, 1, 0, Map.of(3, -100f), -1), new int[0]).apply(logits)), "a ban moves the greedy pick");
    }

    @Test
    void minPDropsTokensBelowItsShareOfTheMostLikely() {
        float[] logits = {0f, (float) Math.log(3)}; // p = 1/4, 3/4: token 0 has a third of token 1's probability
        Sampler keepsBoth = new Sampler(new SamplingParams(1f, 0, 1f, 1, 1, List.of(), new SamplingControls(0, 0, 1, 0.3f, Map.of(), -1)));
        Sampler dropsZero = new Sampler(new SamplingParams(1f, 0, 1f, 1, 1, List.of(), new SamplingControls(0, 0, 1, 0.35f, Map.of(), -1)));
        int zeros = 0;
        for (int i = 0; i < 2000; i++) {
            zeros += keepsBoth.next(logits) == 0 ? 1 : 0;
            assertEquals(1, dropsZero.next(logits));
        }
        assertTrue(zeros > 350 && zeros < 650, "min_p 0.3 keeps token 0 at about 1/4: " + zeros);
    }

    @Test
    void outOfRangeControlsAreRefusedWithTheField() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingControls(2.5f, 0, 1, 0, Map.of(), -1))
                .getMessage().startsWith("presence_penalty"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingControls(0, 0, 0, 0, Map.of(), -1))
                .getMessage().startsWith("repetition_penalty"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingControls(0, 0, 1, 0, Map.of(1, 101f), -1))
                .getMessage().startsWith("logit_bias"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingControls(0, 0, 1, 0, Map.of(), 21))
                .getMessage().startsWith("logprobs"));
    }
}
