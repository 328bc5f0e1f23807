package dev.cna.core.generate;

import dev.cna.core.runtime.torch.TorchBackend;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.Backend;
import dev.cna.core.runtime.torch.WeightStorage;
import dev.cna.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generation on a tiny synthetic model: streaming, limits, stop strings, cancellation, batching. */
class GeneratorTest {
    @TempDir
    static Path dir;
    private WeightSource source;
    private Backend model;
    private Tokenizer tokenizer;
    private Generator generator;

    @BeforeEach
    void load() {
        source = ModelLoader.open(SyntheticModels.Spec.llama().write(dir).gguf());
        model = TorchBackend.load(source, WeightStorage.F32);
        tokenizer = Tokenizer.create(source.tokenizerSpec());
        generator = new Generator(model, tokenizer);
    }

    @AfterEach
    void close() {
        tokenizer.close();
        model.close();
        source.close();
    }

    private SamplingParams sampled(int maxTokens, long seed, List<String> stop) {
        return new SamplingParams(1.5f, 0, 1f, seed, maxTokens, stop);
    }

    @Test
    void streamedPiecesAddUpToTheReplyAndTheBudgetEndsIt() {
        StringBuilder streamed = new StringBuilder();
        List<Integer> tokens = new ArrayList<>();
        Generation g = generator.generate(List.of(tokenizer.encode("the cat")), List.of(sampled(20, 1, List.of())), null,
                (row, token, text) -> {
                    streamed.append(text);
                    tokens.add(token);
                    return true;
                }).get(0);
        assertEquals(g.text(), streamed.toString());
        assertEquals(g.text(), tokenizer.decode(g.tokens()));
        if (g.finishReason() == FinishReason.LENGTH) {
            assertEquals(20, g.tokens().length);
        } else {
            assertEquals(FinishReason.STOP, g.finishReason());
            assertTrue(g.tokens().length < 20);
        }
        // One call per generated token, then at most one call (token -1) with the text held back to the end.
        assertEquals(Arrays.stream(g.tokens()).boxed().toList(), tokens.subList(0, g.tokens().length));
        assertTrue(tokens.size() - g.tokens().length <= 1, tokens.toString());
        tokens.subList(g.tokens().length, tokens.size()).forEach(t -> assertEquals(-1, t));
    }

    @Test
    void aStopStringEndsTheReplyAndIsLeftOut() {
        Generation free = generator.generate(List.of(tokenizer.encode("in a")), List.of(sampled(40, 3, List.of())), null, null).get(0);
        assertTrue(free.text().length() > 6, "need some text to cut: " + free.text());
        String stop = free.text().substring(3, 5);
        Generation cut = generator.generate(List.of(tokenizer.encode("in a")), List.of(sampled(40, 3, List.of(stop))), null, null).get(0);
        assertEquals(FinishReason.STOP, cut.finishReason());
        assertEquals(free.text().substring(0, free.text().indexOf(stop)), cut.text());
    }

    @Test
    void aListenerThatSaysStopCancelsOnlyItsRow() {
        List<int[]> prompts = List.of(tokenizer.encode("he"), tokenizer.encode("the"));
        List<SamplingParams> params = List.of(sampled(10, 5, List.of()), sampled(10, 6, List.of()));
        List<Generation> out = generator.generate(prompts, params, null, (row, token, text) -> row != 0);
        assertEquals(FinishReason.CANCELLED, out.get(0).finishReason());
        assertEquals(1, out.get(0).tokens().length);
        assertFalse(out.get(1).finishReason() == FinishReason.CANCELLED);
    }

    @Test
    void aBatchGivesEachRowWhatItGetsAlone() {
        List<int[]> prompts = List.of(tokenizer.encode("the cat in a hat"), tokenizer.encode("a"), tokenizer.encode("he the"));
        List<SamplingParams> params = List.of(sampled(12, 11, List.of()), SamplingParams.greedy(12), sampled(12, 13, List.of()));
        List<Generation> batched = generator.generate(prompts, params, null, null);
        for (int b = 0; b < prompts.size(); b++) {
            Generation alone = generator.generate(List.of(prompts.get(b)), List.of(params.get(b)), null, null).get(0);
            assertArrayEquals(alone.tokens(), batched.get(b).tokens(), "row " + b);
        }
    }
}
