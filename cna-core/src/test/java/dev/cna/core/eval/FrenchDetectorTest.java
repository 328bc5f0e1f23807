package dev.cna.core.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrenchDetectorTest {

    private final FrenchDetector detector = new FrenchDetector();

    @Test
    void french_replies_are_detected() {
        assertTrue(detector.shows("La capitale de la France est Paris. C'est une ville très belle."));
        assertTrue(detector.shows("Pour faire du pain, il faut de la farine, de l\u2019eau et du sel."));
        assertTrue(detector.shows("Je vous conseille de lire ce livre avec vos enfants."));
    }

    @Test
    void english_replies_are_not_french() {
        assertFalse(detector.shows("The capital of France is Paris. It is a very beautiful city."));
        assertFalse(detector.shows("To bake bread, you need flour, water and salt."));
        // English text quoting a French phrase stays English
        assertFalse(detector.shows("In French you say \"bonjour\" to greet someone, and it is polite to do so."));
    }

    @Test
    void too_few_function_words_is_not_french() {
        assertFalse(detector.shows("Paris!"));
        assertFalse(detector.shows("le"));
        assertFalse(detector.shows(""));
        assertFalse(detector.shows(null));
    }

    @Test
    void counts_and_share() {
        // le, chat, est, sur, la, table  -> le est sur la = 4 French; "and the" = 2 English
        int[] c = FrenchDetector.counts("Le chat est sur la table and the dog");
        assertEquals(4, c[0]);
        assertEquals(2, c[1]);
        assertEquals(4.0 / 6.0, FrenchDetector.frenchShare("Le chat est sur la table and the dog"), 1e-12);
        assertTrue(Double.isNaN(FrenchDetector.frenchShare("Paris London")));
        // elisions count as French function words: l', d', qu'
        // elisions count as French function words: l', d', qu' (+ il)
        assertEquals(4, FrenchDetector.counts("l'eau d'abord qu'il")[0]);
        // English contractions do not: "don't" is English, "it's" is English
        assertEquals(0, FrenchDetector.counts("don't it's")[0]);
    }

    @Test
    void mixed_text_follows_the_majority() {
        assertTrue(detector.shows("Bonjour! Je suis un assistant et je peux vous aider avec the question."));
        assertFalse(detector.shows("Bonjour! I am an assistant and I can help you with the question, je pense."));
    }

    @Test
    void threshold_is_validated() {
        assertThrows(IllegalArgumentException.class, () -> new FrenchDetector(1.0));
        assertThrows(IllegalArgumentException.class, () -> new FrenchDetector(-0.1));
    }
}
