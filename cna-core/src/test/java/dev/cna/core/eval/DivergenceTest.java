package dev.cna.core.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DivergenceTest {

    @Test
    void identical_logits_have_zero_kl() {
        float[] l = {2.5f, -1f, 0.3f, 7f, -20f};
        assertEquals(0.0, Divergence.klNextToken(l, l.clone()), 0.0);
    }

    @Test
    void kl_ignores_a_constant_shift_of_the_logits() {
        float[] p = {1f, 2f, 3f};
        float[] q = {101f, 102f, 103f};
        assertEquals(0.0, Divergence.klNextToken(p, q), 1e-12);
    }

    @Test
    void two_token_case_matches_hand_computation() {
        // P = (1/2, 1/2); Q = softmax(ln 3, 0) = (3/4, 1/4)
        // KL(P||Q) = 1/2 ln(2/3) + 1/2 ln(2) = 1/2 ln(4/3)
        float[] p = {0f, 0f};
        float[] q = {(float) Math.log(3), 0f};
        double expected = 0.5 * Math.log(4.0 / 3.0);
        assertEquals(expected, Divergence.klNextToken(p, q), 1e-7);
        // reverse: KL(Q||P) = 3/4 ln(3/2) + 1/4 ln(1/2)
        double reverse = 0.75 * Math.log(1.5) + 0.25 * Math.log(0.5);
        assertEquals(reverse, Divergence.klNextToken(q, p), 1e-7);
        assertNotEquals(expected, reverse, 1e-3);
    }

    @Test
    void three_token_case_matches_hand_computation() {
        // P = softmax(ln 1, ln 2, ln 5) = (0.125, 0.25, 0.625); Q = uniform
        float[] p = {0f, (float) Math.log(2), (float) Math.log(5)};
        float[] q = {4f, 4f, 4f};
        double[] pp = {1 / 8.0, 2 / 8.0, 5 / 8.0};
        double expected = 0;
        for (double v : pp) {
            expected += v * Math.log(v / (1 / 3.0));
        }
        assertEquals(expected, Divergence.klNextToken(p, q), 1e-7);
    }

    @Test
    void huge_logits_do_not_overflow() {
        float[] p = {1000f, 0f};
        float[] q = {0f, 1000f};
        double kl = Divergence.klNextToken(p, q);
        assertTrue(Double.isFinite(kl));
        assertEquals(1000.0, kl, 1e-6); // P ~ (1, e^-1000): KL ~ log p0 - log q0 = 0 - (-1000)
    }

    @Test
    void masked_tokens_are_handled() {
        float ni = Float.NEGATIVE_INFINITY;
        // token 2 masked in P: contributes nothing
        assertEquals(0.0, Divergence.klNextToken(new float[]{0f, 0f, ni}, new float[]{0f, 0f, ni}), 0.0);
        // P puts mass where Q has none: infinite
        assertEquals(Double.POSITIVE_INFINITY, Divergence.klNextToken(new float[]{0f, 0f}, new float[]{0f, ni}));
    }

    @Test
    void bad_inputs_are_rejected() {
        assertThrows(IllegalArgumentException.class, () -> Divergence.klNextToken(new float[2], new float[3]));
        assertThrows(IllegalArgumentException.class, () -> Divergence.klNextToken(new float[0], new float[0]));
        assertThrows(IllegalArgumentException.class, () -> Divergence.klNextToken(new float[]{Float.NaN}, new float[]{0f}));
        float ni = Float.NEGATIVE_INFINITY;
        assertThrows(IllegalArgumentException.class, () -> Divergence.klNextToken(new float[]{ni, ni}, new float[]{0f, 0f}));
    }
}
