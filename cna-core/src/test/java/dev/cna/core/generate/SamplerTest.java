package dev.cna.core.generate;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    private static float[] randomLogits(long seed, int n) {
        Random r = new Random(seed);
        float[] logits = new float[n];
        for (int i = 0; i < n; i++) {
            logits[i] = (float) r.nextGaussian() * 3;
        }
        return logits;
    }

    @Test
    void greedyTakesTheLargestAndTheLowestIdOnATie() {
        assertEquals(2, new Sampler(SamplingParams.greedy(1)).next(new float[] {1, 3, 5, 5, -2}));
    }

    @Test
    void equalSeedsGiveEqualSequencesAndOtherSeedsDiffer() {
        SamplingParams a = new SamplingParams(1f, 40, 0.95f, 7, 10, List.of());
        SamplingParams b = new SamplingParams(1f, 40, 0.95f, 8, 10, List.of());
        Sampler s1 = new Sampler(a);
        Sampler s2 = new Sampler(a);
        Sampler s3 = new Sampler(b);
        int differ = 0;
        for (int i = 0; i < 50; i++) {
            float[] logits = randomLogits(i, 1000);
            int x = s1.next(logits);
            assertEquals(x, s2.next(logits));
            differ += x != s3.next(logits) ? 1 : 0;
        }
        assertTrue(differ > 0, "another seed should change some picks");
    }

    @Test
    void topKOfOneAndATinyTopPAreGreedy() {
        for (int i = 0; i < 20; i++) {
            float[] logits = randomLogits(100 + i, 500);
            int best = Sampler.argMax(logits);
            assertEquals(best, new Sampler(new SamplingParams(2f, 1, 1f, i, 1, List.of())).next(logits));
            assertEquals(best, new Sampler(new SamplingParams(2f, 0, 1e-6f, i, 1, List.of())).next(logits));
        }
    }

    @Test
    void temperatureOneSamplesTheSoftmax() {
        // p = (1/4, 3/4): logit difference ln 3.
        float[] logits = {0f, (float) Math.log(3)};
        Sampler s = new Sampler(new SamplingParams(1f, 0, 1f, 1, 1, List.of()));
        int ones = 0;
        int n = 20000;
        for (int i = 0; i < n; i++) {
            ones += s.next(logits);
        }
        assertEquals(0.75, ones / (double) n, 0.015);
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // p = (0.5, 0.3, 0.2): top-p 0.7 keeps the first two only.
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2)};
        Sampler s = new Sampler(new SamplingParams(1f, 0, 0.7f, 3, 1, List.of()));
        for (int i = 0; i < 5000; i++) {
            assertTrue(s.next(logits) != 2);
        }
    }

    @Test
    void badParametersAreRefusedWithTheReason() {
        var e = assertThrows(IllegalArgumentException.class, () -> new SamplingParams(-1f, 0, 1f, 0, 1, List.of()));
        assertTrue(e.getMessage().contains("temperature"));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0, 0f, 0, 1, List.of()));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0, 1f, 0, 0, List.of()));
    }
}
