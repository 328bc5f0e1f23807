package dev.cna.core.eval;

import dev.cna.core.circuit.Circuit;
import dev.cna.core.circuit.TestCircuits;
import dev.cna.core.generate.Generator;
import dev.cna.core.generate.SamplingParams;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelSpec;
import dev.cna.core.model.SyntheticModels;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.runtime.BackendOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A small sweep through the eval library alone (no CLI) on a synthetic model. */
class SweepTest {
    @TempDir
    Path dir;

    @Test
    void aSweepMeasuresEveryPointAndItsUnsteeredPointsAreTheModelItself() {
        Path file = SyntheticModels.Spec.llama().write(dir).gguf();
        try (LoadedModel m = LoadedModel.load(new ModelSpec(file.toString()), BackendOptions.cpu())) {
            ModelConfig c = m.config();
            List<double[]> neurons = new ArrayList<>();
            for (int l = 0; l < c.layers(); l++) {
                for (int i = 0; i < c.intermediateSize(); i += 4) {
                    neurons.add(new double[] {l, i, 1.0 + i});
                }
            }
            Circuit circuit = TestCircuits.circuit("wide", 1, m.fingerprint(), c.layers(), c.intermediateSize(),
                    neurons.toArray(double[][]::new));
            Sweep.Settings settings = new Sweep.Settings(List.of(0.0, 1.0), List.of(0.5), 6, 0, 0, 1, 0, 1, 2, false);
            List<CapabilityScorer.Question> questions = List.of(new CapabilityScorer.Question("the cat A hat B in", 2, 0),
                    new CapabilityScorer.Question("a hat A the B cat C he", 3, 2), new CapabilityScorer.Question("he A in B", 2, 1));
            Sweep.Prompts prompts = new Sweep.Prompts(List.of("the cat", "a hat in", "he the"), List.of("in a", "cat the hat"),
                    List.of("the", "a cat"), questions);
            float[][] direction = Sweep.caaDirection(m, List.of("the cat", "a hat"), List.of("in a", "he"), settings);
            Sweep sweep = new Sweep(m, circuit, direction, BehaviorDetector.forBehavior("french"), settings);

            List<List<Sweep.Reply>> seen = new ArrayList<>();
            List<EvalRow> rows = sweep.run(prompts, (row, replies) -> seen.add(replies));

            // cna m = 0, 1; caa alpha = -1, 0 (matching) and 0.5 (extra)
            assertEquals(List.of("cna 0.0", "cna 1.0", "caa -1.0", "caa 0.0", "caa 0.5"),
                    rows.stream().map(r -> r.method() + " " + r.strength()).toList());
            assertEquals(5, seen.size());
            seen.forEach(replies -> assertEquals(5, replies.size(), "3 positive + 2 negative replies per point"));

            EvalRow cnaUnsteered = rows.get(1);
            EvalRow caaUnsteered = rows.get(3);
            assertEquals(0.0, cnaUnsteered.meanKl());
            assertEquals(cnaUnsteered.meanQuality(), caaUnsteered.meanQuality());
            assertEquals(seen.get(1).stream().map(Sweep.Reply::text).toList(), seen.get(3).stream().map(Sweep.Reply::text).toList());

            // the unsteered replies are the model's own greedy replies
            Generator generator = new Generator(m.backend(), m.tokenizer());
            for (int i = 0; i < 3; i++) {
                String alone = generator.generate(List.of(m.tokenizer().encodePrompt(prompts.positive().get(i))),
                        List.of(SamplingParams.greedy(6)), null, null).get(0).text();
                assertEquals(alone, seen.get(1).get(i).text(), "prompt " + i);
            }
            // capability: the unsteered accuracy is the model's own answers, question by question
            CapabilityScorer scorer = new CapabilityScorer(m.tokenizer());
            int right = 0;
            for (CapabilityScorer.Question q : questions) {
                float[] logits = m.backend().logitsAtEveryPosition(m.tokenizer().encodePrompt(q.prompt()), null)[m.tokenizer()
                        .encodePrompt(q.prompt()).length - 1];
                right += scorer.predicted(logits, q.choices()) == q.answer() ? 1 : 0;
            }
            assertEquals(right / 3.0, cnaUnsteered.capability(), 1e-9);
            assertEquals(cnaUnsteered.capability(), caaUnsteered.capability());
            rows.forEach(r -> assertTrue(r.capability() >= 0 && r.capability() <= 1, r.toString()));
            // ablating a quarter of the neurons moves the next-token distribution and some reply
            assertTrue(rows.get(0).meanKl() > 0, "KL of the ablation " + rows.get(0).meanKl());
            assertNotEquals(seen.get(1).stream().map(Sweep.Reply::text).toList(), seen.get(0).stream().map(Sweep.Reply::text).toList());
        }
    }
}
