package dev.cna.core.eval;

import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.model.WeightSource;
import dev.cna.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CapabilityScorerTest {
    @TempDir
    Path dir;

    @Test
    void theHighestLetterAmongTheChoicesIsTheAnswer() {
        SyntheticModels.Model m = SyntheticModels.Spec.llama().write(dir);
        try (WeightSource source = ModelLoader.open(m.gguf()); Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec())) {
            CapabilityScorer scorer = new CapabilityScorer(tokenizer);
            int a = tokenizer.encode("A")[0];
            int b = tokenizer.encode("B")[0];
            int c = tokenizer.encode("C")[0];
            int e = tokenizer.encode("E")[0];
            float[] logits = new float[SyntheticModels.VOCAB_SIZE];
            logits[a] = 1f;
            logits[c] = 3f;
            logits[e] = 9f; // not a choice of a 4-choice question
            logits[b] = 2f;
            assertEquals(2, scorer.predicted(logits, 4));
            assertEquals(1, scorer.predicted(logits, 2), "C is not among two choices");
            float[] other = logits.clone();
            other[a] = 5f;
            double accuracy = scorer.accuracy(List.of(new CapabilityScorer.Question("q1", 4, 2),
                    new CapabilityScorer.Question("q2", 4, 2), new CapabilityScorer.Question("q3", 2, 1)),
                    new float[][] {logits, other, logits});
            assertEquals(2 / 3.0, accuracy, 1e-12);
        }
    }

    @Test
    void questionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new CapabilityScorer.Question("q", 4, 4));
        assertThrows(IllegalArgumentException.class, () -> new CapabilityScorer.Question("q", 1, 0));
    }
}
