package dev.cna.core.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopStringsTest {
    @Test
    void aStopStringSplitAcrossPiecesIsNeverEmitted() {
        StopStrings s = new StopStrings(List.of("END"));
        StringBuilder out = new StringBuilder();
        for (String piece : List.of("Hello E", "N", "D world")) {
            out.append(s.push(piece));
        }
        out.append(s.flush());
        assertEquals("Hello ", out.toString());
        assertTrue(s.stopped());
    }

    @Test
    void aFalseStartIsReleasedAsSoonAsItCannotBeAStop() {
        StopStrings s = new StopStrings(List.of("END"));
        assertEquals("Hello ", s.push("Hello E"));
        assertEquals("Ex", s.push("x"));
        assertFalse(s.stopped());
        assertEquals("", s.flush());
    }

    @Test
    void theEarliestOfSeveralStopsWins() {
        StopStrings s = new StopStrings(List.of("\n\n", "User:"));
        assertEquals("a", s.push("aUser: b\n\n"));
        assertTrue(s.stopped());
    }
}
