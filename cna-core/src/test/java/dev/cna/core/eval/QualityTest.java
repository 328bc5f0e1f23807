package dev.cna.core.eval;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QualityTest {

    @Test
    void text_without_repeats_has_quality_one() {
        assertEquals(1.0, Quality.of("The quick brown fox jumps over the lazy dog."), 0.0);
    }

    @Test
    void short_texts_have_quality_one() {
        assertEquals(1.0, Quality.of(null), 0.0);
        assertEquals(1.0, Quality.of(""), 0.0);
        assertEquals(1.0, Quality.of("no no no"), 0.0);          // 3 words: no 4-gram
        assertEquals(1.0, Quality.of("one two three four"), 0.0); // exactly one 4-gram
    }

    @Test
    void repeated_phrase_gives_the_exact_share() {
        // 8 words -> 5 four-grams: "the cat sat on" appears twice, the other 3 once -> 4 distinct, 1 repeat
        assertEquals(1.0 - 1.0 / 5.0, Quality.of("the cat sat on the cat sat on"), 1e-12);
        // 9 words -> 6 four-grams, 3 distinct -> 3 repeats
        assertEquals(0.5, Quality.of("I like it. I like it. I like it."), 1e-12);
        // 6 identical words -> 3 identical four-grams -> 2 repeats
        assertEquals(1.0 / 3.0, Quality.of("no no no no no no"), 1e-12);
    }

    @Test
    void case_and_punctuation_do_not_hide_repeats() {
        assertEquals(Quality.of("the cat sat on the cat sat on"), Quality.of("The cat, sat on. THE cat sat on!"), 0.0);
        assertEquals(List.of("don't", "stop", "now"), Quality.words("Don\u2019t -- stop, now."));
    }

    @Test
    void collapse_goes_toward_zero() {
        double q = Quality.of("loop ".repeat(1000));
        assertEquals(1.0 / 997.0, q, 1e-12);
        assertTrue(q < 0.01);
    }

    @Test
    void mean_averages_texts() {
        assertEquals((1.0 + 0.5) / 2, Quality.mean(List.of("a b c d e", "I like it. I like it. I like it.")), 1e-12);
        assertTrue(Double.isNaN(Quality.mean(List.of())));
    }
}
