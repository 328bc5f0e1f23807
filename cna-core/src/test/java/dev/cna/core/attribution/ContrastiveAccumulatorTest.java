package dev.cna.core.attribution;

import dev.cna.core.circuit.CircuitNeuron;
import dev.cna.core.circuit.Neuron;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContrastiveAccumulatorTest {
    private static final int LAYERS = 6;
    private static final int SIZE = 64;
    private static final Set<Integer> INCLUDED = SelectionOptions.defaults().includedLayers(LAYERS); // 2..5

    /** One prompt's activations, positive or negative. */
    private record Event(boolean positive, float[][] activations) {}

    @Test
    void plantedDifferenceIsRecoveredExactlyInOrder() {
        // Planted deltas of distinct magnitudes and both signs; noise (sd 0.1) moves a mean by ~0.03.
        List<CircuitNeuron> planted = List.of(
                new CircuitNeuron(4, 17, 5.0), new CircuitNeuron(2, 3, -4.0), new CircuitNeuron(5, 60, 3.0),
                new CircuitNeuron(3, 0, -2.5), new CircuitNeuron(2, 63, 2.0), new CircuitNeuron(5, 8, -1.5));
        Random random = new Random(7);
        ContrastiveAccumulator acc = new ContrastiveAccumulator(LAYERS, SIZE, INCLUDED);
        for (int p = 0; p < 16; p++) {
            float[][] pos = noise(random, 0.1f);
            for (CircuitNeuron n : planted) {
                pos[n.layer()][n.index()] += (float) n.delta();
            }
            acc.addPositive(pos);
            acc.addNegative(noise(random, 0.1f));
        }
        CircuitSelector.Selection selection = CircuitSelector.select(acc.delta(),
                new SelectionOptions(planted.size(), SelectionOptions.DEFAULT_EXCLUDE_LAYERS, false), Set.of());

        assertEquals(planted.stream().map(CircuitNeuron::neuron).toList(),
                selection.neurons().stream().map(CircuitNeuron::neuron).toList());
        for (int k = 0; k < planted.size(); k++) {
            assertEquals(planted.get(k).delta(), selection.neurons().get(k).delta(), 0.15, "delta of " + planted.get(k));
        }
        assertEquals(16, acc.positiveCount());
        assertEquals(16, acc.negativeCount());
    }

    @Test
    void anyOrderAndSplitGivesIdenticalStateBytesAndCircuit() {
        Random random = new Random(42);
        List<Event> events = new ArrayList<>();
        for (int e = 0; e < 60; e++) {
            events.add(new Event(random.nextBoolean() || e == 0, wideRangeActivations(random)));
        }
        events.add(new Event(false, wideRangeActivations(random)));
        ContrastiveAccumulator reference = accumulate(events);
        byte[] referenceBytes = reference.serialize();
        double[][] referenceDelta = reference.delta();
        SelectionOptions options = new SelectionOptions(25, SelectionOptions.DEFAULT_EXCLUDE_LAYERS, true);
        Set<Neuron> blacklist = Set.of(new Neuron(3, 5), new Neuron(4, 40));
        CircuitSelector.Selection referenceCircuit = CircuitSelector.select(referenceDelta, options, blacklist);

        boolean naiveDoubleSumsDiffered = false;
        for (int trial = 0; trial < 20; trial++) {
            List<Event> shuffled = new ArrayList<>(events);
            Collections.shuffle(shuffled, random);
            // Random partitions, accumulated separately, merged in random order.
            int parts = 1 + random.nextInt(6);
            List<List<Event>> partitions = new ArrayList<>();
            for (int p = 0; p < parts; p++) {
                partitions.add(new ArrayList<>());
            }
            for (Event event : shuffled) {
                partitions.get(random.nextInt(parts)).add(event);
            }
            List<ContrastiveAccumulator> partials = new ArrayList<>(partitions.stream().map(this::accumulate).toList());
            Collections.shuffle(partials, random);
            // Merge pairwise at random until one is left (a random merge tree).
            while (partials.size() > 1) {
                ContrastiveAccumulator a = partials.remove(random.nextInt(partials.size()));
                ContrastiveAccumulator b = partials.remove(random.nextInt(partials.size()));
                a.merge(b);
                partials.add(a);
            }
            ContrastiveAccumulator merged = partials.get(0);

            assertEquals(reference, merged, "trial " + trial);
            assertEquals(reference.hashCode(), merged.hashCode());
            assertArrayEquals(referenceBytes, merged.serialize(), "trial " + trial);
            assertTrue(Arrays.deepEquals(referenceDelta, merged.delta()), "trial " + trial);
            assertEquals(referenceCircuit, CircuitSelector.select(merged.delta(), options, blacklist), "trial " + trial);

            naiveDoubleSumsDiffered |= !Arrays.equals(naivePositiveSum(events, 4), naivePositiveSum(shuffled, 4));
        }
        // The inputs are hard enough that plain double sums do depend on order: the test above can fail.
        assertTrue(naiveDoubleSumsDiffered, "plain double sums should have differed for some shuffle");
    }

    @Test
    void sumsOfValuesOnTheFixedPointGridAreExact() {
        // float32 values with |h| >= 2^-9 are multiples of 2^-32, so their sums carry no rounding at all.
        Random random = new Random(3);
        ContrastiveAccumulator acc = new ContrastiveAccumulator(3, 8, Set.of(2));
        BigDecimal[] exact = new BigDecimal[8];
        Arrays.fill(exact, BigDecimal.ZERO);
        int prompts = 1000;
        for (int p = 0; p < prompts; p++) {
            float[][] h = new float[3][];
            h[2] = new float[8];
            for (int i = 0; i < 8; i++) {
                float magnitude = (float) Math.scalb(1.0 + random.nextDouble(), random.nextInt(38) - 9); // 2^-9 .. 2^29
                h[2][i] = random.nextBoolean() ? magnitude : -magnitude;
                exact[i] = exact[i].add(new BigDecimal(h[2][i]));
            }
            acc.addPositive(h);
            acc.addNegative(zeros(3, 8, 2));
        }
        double[] delta = acc.delta()[2];
        for (int i = 0; i < 8; i++) {
            assertEquals(exact[i].doubleValue() / prompts, delta[i], 0.0, "neuron " + i);
        }
    }

    @Test
    void tinyValuesAreWithinTheDocumentedPrecision() {
        Random random = new Random(5);
        ContrastiveAccumulator acc = new ContrastiveAccumulator(3, 8, Set.of(1));
        BigDecimal[] exact = new BigDecimal[8];
        Arrays.fill(exact, BigDecimal.ZERO);
        int prompts = 500;
        for (int p = 0; p < prompts; p++) {
            float[][] h = new float[3][];
            h[1] = new float[8];
            for (int i = 0; i < 8; i++) {
                h[1][i] = (float) ((random.nextDouble() - 0.5) * 1e-8); // below 2^-9: rounded to 2^-32
                exact[i] = exact[i].add(new BigDecimal(h[1][i]));
            }
            acc.addPositive(h);
            acc.addNegative(zeros(3, 8, 1));
        }
        double[] delta = acc.delta()[1];
        for (int i = 0; i < 8; i++) {
            double exactMean = exact[i].doubleValue() / prompts;
            assertEquals(exactMean, delta[i], 0x1p-33 + Math.ulp(exactMean), "neuron " + i);
            assertNotEquals(0.0, delta[i], "1e-9-sized activations must not vanish");
        }
    }

    @Test
    void sumsBeyond64BitsCarryExactly() {
        // The largest accepted float is 2^31 - 128; scaled by 2^32 two of them already exceed a long.
        float max = Math.nextDown((float) ContrastiveAccumulator.MAX_ABS_ACTIVATION);
        ContrastiveAccumulator acc = new ContrastiveAccumulator(2, 2, Set.of(0, 1));
        float[][] big = {{max, -max}, {max, 1f}};
        float[][] bigNegated = {{-max, max}, {max, 1f}};
        for (int p = 0; p < 1000; p++) {
            acc.addPositive(big);
        }
        for (int p = 0; p < 999; p++) {
            acc.addPositive(bigNegated);
        }
        // Positive sums: max, -max (both crossed 2^63 units on the way), 1999 * max (stays beyond), 1999;
        // the negative side is one 0.25 everywhere.
        acc.addNegative(new float[][] {{0.25f, 0.25f}, {0.25f, 0.25f}});

        double[][] delta = acc.delta();
        assertEquals((double) max / 1999 - 0.25, delta[0][0], 0.0);
        assertEquals(-(double) max / 1999 - 0.25, delta[0][1], 0.0);
        assertEquals((double) max - 0.25, delta[1][0], 0.0);
        assertEquals(1.0 - 0.25, delta[1][1], 0.0);
        assertEquals(acc, ContrastiveAccumulator.deserialize(acc.serialize()));
    }

    @Test
    void rejectedPromptLeavesTheSumsUntouched() {
        ContrastiveAccumulator acc = new ContrastiveAccumulator(LAYERS, SIZE, INCLUDED);
        acc.addPositive(noise(new Random(1), 1f));
        byte[] before = acc.serialize();
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, (float) ContrastiveAccumulator.MAX_ABS_ACTIVATION}) {
            float[][] h = noise(new Random(2), 1f);
            h[5][SIZE - 1] = bad; // last value: the earlier ones must not have been added either
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> acc.addPositive(h));
            assertTrue(e.getMessage().contains("(5, 63)"), e.getMessage());
        }
        float[][] missingLayer = noise(new Random(3), 1f);
        missingLayer[3] = null;
        assertThrows(IllegalArgumentException.class, () -> acc.addNegative(missingLayer));
        assertThrows(IllegalArgumentException.class, () -> acc.addNegative(new float[LAYERS - 1][]));
        assertArrayEquals(before, acc.serialize());
        assertEquals(1, acc.positiveCount());
        assertEquals(0, acc.negativeCount());
    }

    @Test
    void excludedLayersAreNotRecordedAndMayBeNull() {
        ContrastiveAccumulator acc = new ContrastiveAccumulator(LAYERS, SIZE, INCLUDED);
        float[][] h = noise(new Random(9), 1f);
        h[0] = null;
        h[1] = new float[] {Float.NaN}; // ignored: layer 1 is not recorded
        acc.addPositive(h);
        acc.addNegative(noise(new Random(10), 1f));
        double[][] delta = acc.delta();
        assertNull(delta[0]);
        assertNull(delta[1]);
        assertEquals(SIZE, delta[2].length);
        assertEquals(Set.of(2, 3, 4, 5), acc.includedLayers());
    }

    @Test
    void deltaNeedsBothSides() {
        ContrastiveAccumulator acc = new ContrastiveAccumulator(LAYERS, SIZE, INCLUDED);
        acc.addPositive(noise(new Random(1), 1f));
        IllegalStateException e = assertThrows(IllegalStateException.class, acc::delta);
        assertTrue(e.getMessage().contains("1 and 0"), e.getMessage());
    }

    @Test
    void mergeRejectsAnotherShape() {
        ContrastiveAccumulator acc = new ContrastiveAccumulator(LAYERS, SIZE, INCLUDED);
        assertThrows(IllegalArgumentException.class, () -> acc.merge(new ContrastiveAccumulator(LAYERS, SIZE, Set.of(2, 3))));
        assertThrows(IllegalArgumentException.class, () -> acc.merge(new ContrastiveAccumulator(LAYERS, SIZE + 1, INCLUDED)));
    }

    @Test
    void serializeRoundTrips() {
        Random random = new Random(11);
        ContrastiveAccumulator acc = new ContrastiveAccumulator(LAYERS, SIZE, INCLUDED);
        for (int p = 0; p < 5; p++) {
            acc.addPositive(wideRangeActivations(random));
            acc.addNegative(wideRangeActivations(random));
        }
        byte[] bytes = acc.serialize();
        ContrastiveAccumulator copy = ContrastiveAccumulator.deserialize(bytes);

        assertEquals(acc, copy);
        assertArrayEquals(bytes, copy.serialize());
        assertTrue(Arrays.deepEquals(acc.delta(), copy.delta()));
        assertEquals(acc.positiveCount(), copy.positiveCount());
        assertEquals(INCLUDED, copy.includedLayers());
        // The copy keeps accumulating like the original.
        float[][] next = wideRangeActivations(random);
        acc.addNegative(next);
        copy.addNegative(next);
        assertEquals(acc, copy);
        // Empty accumulators round-trip too.
        ContrastiveAccumulator empty = new ContrastiveAccumulator(LAYERS, SIZE, INCLUDED);
        assertEquals(empty, ContrastiveAccumulator.deserialize(empty.serialize()));
        assertNotEquals(empty, acc);
    }

    @Test
    void deserializeRejectsDamagedSnapshots() {
        ContrastiveAccumulator acc = new ContrastiveAccumulator(LAYERS, SIZE, INCLUDED);
        acc.addPositive(noise(new Random(1), 1f));
        byte[] bytes = acc.serialize();

        byte[] flipped = bytes.clone();
        flipped[flipped.length / 2] ^= 1;
        assertMessage("CRC", () -> ContrastiveAccumulator.deserialize(flipped));

        assertMessage("bytes", () -> ContrastiveAccumulator.deserialize(Arrays.copyOf(bytes, bytes.length - 9)));

        byte[] badMagic = bytes.clone();
        badMagic[0] = 'X';
        assertMessage("magic", () -> ContrastiveAccumulator.deserialize(badMagic));

        byte[] newerFormat = bytes.clone();
        newerFormat[7] = 2;
        assertMessage("format 2", () -> ContrastiveAccumulator.deserialize(newerFormat));

        assertMessage("too short", () -> ContrastiveAccumulator.deserialize(new byte[3]));
    }

    private static void assertMessage(String expected, Runnable action) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, action::run);
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    private ContrastiveAccumulator accumulate(List<Event> events) {
        ContrastiveAccumulator acc = new ContrastiveAccumulator(LAYERS, SIZE, INCLUDED);
        for (Event event : events) {
            if (event.positive()) {
                acc.addPositive(event.activations());
            } else {
                acc.addNegative(event.activations());
            }
        }
        return acc;
    }

    /** What a plain double accumulator would hold for one layer's positive sums. */
    private static double[] naivePositiveSum(List<Event> events, int layer) {
        double[] sum = new double[SIZE];
        for (Event event : events) {
            if (event.positive()) {
                for (int i = 0; i < SIZE; i++) {
                    sum[i] += event.activations()[layer][i];
                }
            }
        }
        return sum;
    }

    private static float[][] noise(Random random, float sd) {
        float[][] h = new float[LAYERS][SIZE];
        for (float[] layer : h) {
            for (int i = 0; i < SIZE; i++) {
                layer[i] = (float) (random.nextGaussian() * sd);
            }
        }
        return h;
    }

    /** Magnitudes from 1e-12 to 1e6 with both signs: the values that make double sums order-dependent. */
    private static float[][] wideRangeActivations(Random random) {
        float[][] h = new float[LAYERS][SIZE];
        for (float[] layer : h) {
            for (int i = 0; i < SIZE; i++) {
                layer[i] = (float) (random.nextGaussian() * Math.pow(10, -12 + 18 * random.nextDouble()));
            }
        }
        return h;
    }

    private static float[][] zeros(int layers, int size, int layer) {
        float[][] h = new float[layers][];
        h[layer] = new float[size];
        return h;
    }
}
