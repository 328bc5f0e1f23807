package dev.cna.core.attribution;

import dev.cna.core.circuit.CircuitNeuron;
import dev.cna.core.circuit.Neuron;
import dev.cna.core.model.ModelStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UniversalNeuronDetectorTest {
    private static final int LAYERS = 5;
    private static final int SIZE = 256;
    private static final Neuron ALWAYS_ON = new Neuron(3, 77);
    private static final Neuron TWELVE_OF_FIFTEEN = new Neuron(2, 10); // exactly 80%
    private static final Neuron ELEVEN_OF_FIFTEEN = new Neuron(2, 11); // 73%
    private static final String FINGERPRINT = "ab".repeat(32);

    @Test
    void plantedAlwaysOnNeuronIsUniversalAndTheThresholdIsEightyPercent() {
        Set<Neuron> universal = UniversalNeuronDetector.detect(neutralActivations(15, new Random(1)));
        assertEquals(Set.of(ALWAYS_ON, TWELVE_OF_FIFTEEN), universal);
        assertFalse(universal.contains(ELEVEN_OF_FIFTEEN));
    }

    @Test
    void universalNeuronsStayOutOfTheCircuit() {
        Set<Neuron> blacklist = UniversalNeuronDetector.detect(neutralActivations(15, new Random(2)));
        // The always-on neuron is also the strongest contrast: it fires harder on positive prompts.
        Random random = new Random(3);
        ContrastiveAccumulator acc = new ContrastiveAccumulator(LAYERS, SIZE, SelectionOptions.defaults().includedLayers(LAYERS));
        for (int p = 0; p < 8; p++) {
            float[][] pos = noise(random);
            pos[ALWAYS_ON.layer()][ALWAYS_ON.index()] = 60f;
            pos[4][5] += 3f;
            pos[2][200] -= 2f;
            acc.addPositive(pos);
            float[][] neg = noise(random);
            neg[ALWAYS_ON.layer()][ALWAYS_ON.index()] = 40f;
            acc.addNegative(neg);
        }

        CircuitSelector.Selection with = CircuitSelector.select(acc.delta(), new SelectionOptions(2, Set.of(0, 1), true), blacklist);
        assertEquals(List.of(new Neuron(4, 5), new Neuron(2, 200)), with.neurons().stream().map(CircuitNeuron::neuron).toList());
        assertEquals(1, with.blacklistedCount());

        CircuitSelector.Selection without = CircuitSelector.select(acc.delta(), new SelectionOptions(2, Set.of(0, 1), false), blacklist);
        assertEquals(ALWAYS_ON, without.neurons().get(0).neuron());
    }

    @Test
    void needsAtLeastTenPrompts() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UniversalNeuronDetector.detect(neutralActivations(9, new Random(4))));
        assertTrue(e.getMessage().contains("at least 10"), e.getMessage());
    }

    @Test
    void builtInNeutralPromptsAreFifteenDistinctShortTexts() {
        List<String> prompts = UniversalNeuronDetector.NEUTRAL_PROMPTS;
        assertEquals(15, prompts.size());
        assertEquals(15, new HashSet<>(prompts).size());
        assertTrue(prompts.stream().allMatch(p -> !p.isBlank() && p.length() <= 60), prompts.toString());
    }

    @Test
    void detectsOnceThenReadsTheCache(@TempDir Path dir) throws IOException {
        AtomicInteger calls = new AtomicInteger();
        Function<List<String>, float[][][]> model = prompts -> {
            calls.incrementAndGet();
            assertEquals(UniversalNeuronDetector.NEUTRAL_PROMPTS, prompts);
            return neutralActivations(prompts.size(), new Random(5));
        };
        Blacklist first = UniversalNeuronDetector.cachedOrDetect(dir, FINGERPRINT, model);
        Blacklist second = UniversalNeuronDetector.cachedOrDetect(dir, FINGERPRINT, model);

        assertEquals(1, calls.get(), "the second call must come from the cache");
        assertEquals(first, second);
        assertEquals(Set.of(ALWAYS_ON, TWELVE_OF_FIFTEEN), second.neurons());
        assertTrue(Files.exists(dir.resolve(FINGERPRINT + ".json")));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary files left behind");
        }
    }

    @Test
    void cacheIsKeyedByFingerprintAndChecked(@TempDir Path dir) throws IOException {
        new Blacklist(FINGERPRINT, Set.of(new Neuron(1, 2))).save(dir);
        String other = "cd".repeat(32);
        assertTrue(Blacklist.load(dir, other).isEmpty());
        assertEquals(Set.of(new Neuron(1, 2)), Blacklist.load(dir, FINGERPRINT).orElseThrow().neurons());

        // A file whose content names another model is refused, not silently used.
        Files.copy(dir.resolve(FINGERPRINT + ".json"), dir.resolve(other + ".json"));
        IOException e = assertThrows(IOException.class, () -> Blacklist.load(dir, other));
        assertTrue(e.getMessage().contains("delete it"), e.getMessage());

        Files.writeString(dir.resolve(FINGERPRINT + ".json"), "{not json");
        assertThrows(IOException.class, () -> Blacklist.load(dir, FINGERPRINT));

        assertThrows(IllegalArgumentException.class, () -> Blacklist.load(dir, "../../etc/passwd"));
        assertThrows(IllegalArgumentException.class, () -> new Blacklist("ABC", Set.of()));
    }

    @Test
    void defaultCacheLivesUnderCnaHome() {
        assertEquals(ModelStore.home().resolve("blacklists"), Blacklist.cacheDir());
    }

    /**
     * Random activations (|h| < 1) of {@code prompts} neutral prompts, plus: ALWAYS_ON large on every prompt
     * (alternating sign), TWELVE_OF_FIFTEEN large on the first 12, ELEVEN_OF_FIFTEEN on the first 11. Layer 0
     * is not recorded (null), as when excluded.
     */
    private static float[][][] neutralActivations(int prompts, Random random) {
        float[][][] h = new float[prompts][][];
        for (int p = 0; p < prompts; p++) {
            h[p] = noise(random);
            h[p][0] = null;
            h[p][ALWAYS_ON.layer()][ALWAYS_ON.index()] = p % 2 == 0 ? 50f : -50f;
            if (p < 12) {
                h[p][TWELVE_OF_FIFTEEN.layer()][TWELVE_OF_FIFTEEN.index()] = 30f;
            }
            if (p < 11) {
                h[p][ELEVEN_OF_FIFTEEN.layer()][ELEVEN_OF_FIFTEEN.index()] = -30f;
            }
        }
        return h;
    }

    private static float[][] noise(Random random) {
        float[][] h = new float[LAYERS][SIZE];
        for (float[] layer : h) {
            for (int i = 0; i < SIZE; i++) {
                layer[i] = (float) (random.nextDouble() * 2 - 1);
            }
        }
        return h;
    }
}
