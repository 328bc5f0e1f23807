package dev.cna.core.attribution;

import dev.cna.core.circuit.CircuitNeuron;
import dev.cna.core.circuit.Neuron;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CircuitSelectorTest {
    private static final Set<Integer> NONE = Set.of();

    @Test
    void tiesBreakByLayerThenIndexWhateverTheSign() {
        double[][] delta = new double[4][6];
        // Five neurons tie at |delta| = 2, scattered over layers and signs; topK = 5 cuts inside the tie.
        delta[3][0] = 2.0;
        delta[1][5] = -2.0;
        delta[2][1] = 2.0;
        delta[1][2] = 2.0;
        delta[0][4] = -2.0;
        delta[2][3] = 3.0;
        CircuitSelector.Selection s = CircuitSelector.select(delta, new SelectionOptions(5, NONE, false), Set.of());
        assertEquals(List.of(new CircuitNeuron(2, 3, 3.0), new CircuitNeuron(0, 4, -2.0), new CircuitNeuron(1, 2, 2.0),
                new CircuitNeuron(1, 5, -2.0), new CircuitNeuron(2, 1, 2.0)), s.neurons());
    }

    @Test
    void tiesAmongAllZeroDeltasAreDeterministic() {
        CircuitSelector.Selection s = CircuitSelector.select(new double[3][4], new SelectionOptions(3, NONE, false), Set.of());
        assertEquals(List.of(new Neuron(0, 0), new Neuron(0, 1), new Neuron(0, 2)), neurons(s));
    }

    @Test
    void excludedAndUnrecordedLayersAreNeverRanked() {
        double[][] delta = new double[6][];
        for (int layer = 0; layer < 6; layer++) {
            delta[layer] = new double[8];
            delta[layer][layer] = 10.0 - layer; // the strongest neurons sit in the first layers
        }
        delta[3] = null; // not recorded
        CircuitSelector.Selection defaults = CircuitSelector.select(delta, SelectionOptions.defaults(), Set.of());
        assertEquals(new Neuron(2, 2), defaults.neurons().get(0).neuron());
        assertTrue(defaults.neurons().stream().noneMatch(n -> n.layer() == 0 || n.layer() == 1 || n.layer() == 3));
        assertEquals(Set.of(0, 1, 3), defaults.excludedLayers());
        assertEquals(24, defaults.neurons().size(), "3 ranked layers x 8 neurons, fewer than topK 200");

        CircuitSelector.Selection custom = CircuitSelector.select(delta, new SelectionOptions(2, Set.of(2, 4), false), Set.of());
        assertEquals(List.of(new Neuron(0, 0), new Neuron(1, 1)), neurons(custom));
        assertEquals(Set.of(2, 3, 4), custom.excludedLayers());
    }

    @Test
    void blacklistedNeuronsAreSkippedAndCounted() {
        double[][] delta = new double[3][5];
        delta[2][0] = 9;
        delta[2][1] = -8;
        delta[2][2] = 7;
        delta[2][3] = 6;
        delta[2][4] = 0.5;
        Set<Neuron> blacklist = Set.of(new Neuron(2, 1), new Neuron(2, 4), new Neuron(0, 0));
        SelectionOptions options = new SelectionOptions(3, Set.of(0), true);

        CircuitSelector.Selection s = CircuitSelector.select(delta, options, blacklist);
        assertEquals(List.of(new Neuron(2, 0), new Neuron(2, 2), new Neuron(2, 3)), neurons(s));
        // (2, 1) would have ranked second; (2, 4) would not have made the cut; (0, 0) is in an excluded layer.
        assertEquals(1, s.blacklistedCount());

        CircuitSelector.Selection off = CircuitSelector.select(delta, new SelectionOptions(3, Set.of(0), false), blacklist);
        assertEquals(List.of(new Neuron(2, 0), new Neuron(2, 1), new Neuron(2, 2)), neurons(off));
        assertEquals(0, off.blacklistedCount());
    }

    @Test
    void blacklistedCountIsCappedByWhatTheTopKWouldHaveHeld() {
        double[][] delta = {{5, 4, 3, 1}};
        Set<Neuron> blacklist = Set.of(new Neuron(0, 0), new Neuron(0, 1), new Neuron(0, 2));
        CircuitSelector.Selection s = CircuitSelector.select(delta, new SelectionOptions(2, NONE, true), blacklist);
        assertEquals(List.of(new Neuron(0, 3)), neurons(s));
        assertEquals(2, s.blacklistedCount(), "the unfiltered top-2 held two blacklisted neurons");
    }

    @Test
    void aBlacklistOfAnotherShapeIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CircuitSelector.select(
                new double[3][5], SelectionOptions.defaults(), Set.of(new Neuron(2, 5))));
        assertTrue(e.getMessage().contains("another model"), e.getMessage());
    }

    @Test
    void optionsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new SelectionOptions(0, NONE, true));
        assertThrows(IllegalArgumentException.class, () -> new SelectionOptions(5, Set.of(-1), true));
        assertEquals(Set.of(0, 1), SelectionOptions.defaults().excludeLayers());
        assertEquals(200, SelectionOptions.defaults().topK());
        assertEquals(Set.of(2, 3), SelectionOptions.defaults().includedLayers(4));
    }

    @Test
    void aTopKBeyondTheCandidatesKeepsThemAllAndCheckForSaysWhichOptionIsOutOfRange() {
        double[][] delta = {{1, -2}, {3, 4}, {0.5, -5}};
        CircuitSelector.Selection s = CircuitSelector.select(delta, new SelectionOptions(Integer.MAX_VALUE, Set.of(0), false), Set.of());
        assertEquals(List.of(new Neuron(2, 1), new Neuron(1, 1), new Neuron(1, 0), new Neuron(2, 0)), neurons(s));
        assertEquals(Integer.MAX_VALUE, s.topK());

        new SelectionOptions(4, Set.of(0), true).checkFor(3, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SelectionOptions(Integer.MAX_VALUE, Set.of(0, 1), true).checkFor(30, 1536));
        assertTrue(e.getMessage().contains("topK 2147483647") && e.getMessage().contains("43008"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SelectionOptions(5, Set.of(999), true).checkFor(30, 1536));
        assertTrue(e.getMessage().contains("999"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SelectionOptions(5, Set.of(0, 1, 2), true).checkFor(3, 8));
        assertTrue(e.getMessage().contains("none"), e.getMessage());
    }

    private static List<Neuron> neurons(CircuitSelector.Selection s) {
        return s.neurons().stream().map(CircuitNeuron::neuron).toList();
    }
}
