package dev.cna.core.attribution;

import dev.cna.core.circuit.Neuron;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * Finds universal ("infrastructure") neurons (docs/method.md section 3): neurons among the {@value #TOP_PER_LAYER}
 * largest |h| of their layer, at the last position, for at least 80% of short neutral prompts. They show up in
 * every contrast and steering them damages everything, so circuits skip them.
 */
public final class UniversalNeuronDetector {
    public static final int TOP_PER_LAYER = 20;
    public static final int MIN_PROMPTS = 10;

    /** Short, diverse, neutral raw-text prompts (no chat template), used once per model. */
    public static final List<String> NEUTRAL_PROMPTS = List.of(
            "The weather today is",
            "In 1969, the first humans",
            "def fibonacci(n):",
            "My favorite recipe for bread starts with",
            "The capital of Australia is",
            "Photosynthesis converts sunlight into",
            "She opened the door and saw",
            "To install the package, run",
            "The quarterly report shows that revenue",
            "Once upon a time, in a small village,",
            "The train leaves the station at",
            "Water boils at a temperature of",
            "Dear Sir or Madam, I am writing to",
            "The chess player moved her knight to",
            "A list of common garden birds:");

    private UniversalNeuronDetector() {}

    /**
     * The universal neurons of the given activations, [prompt][layer][neuron] at the last position (null for
     * layers that were not recorded, the same layers for every prompt). A neuron is universal when it is among
     * its layer's top {@value #TOP_PER_LAYER} by |h| (ties by index) in at least 80% of the prompts.
     */
    public static Set<Neuron> detect(float[][][] activations) {
        int prompts = activations.length;
        if (prompts < MIN_PROMPTS) {
            throw new IllegalArgumentException("universal-neuron detection needs at least " + MIN_PROMPTS + " prompts, got " + prompts);
        }
        int layers = activations[0].length;
        Set<Neuron> universal = new TreeSet<>();
        for (int layer = 0; layer < layers; layer++) {
            if (activations[0][layer] == null) {
                continue;
            }
            int size = activations[0][layer].length;
            int[] timesInTop = new int[size];
            for (int p = 0; p < prompts; p++) {
                float[] h = layerOf(activations, p, layer, layers, size);
                Comparator<Integer> byMagnitude = Comparator.comparingDouble((Integer i) -> -Math.abs(h[i])).thenComparingInt(i -> i);
                IntStream.range(0, size).boxed().sorted(byMagnitude).limit(TOP_PER_LAYER).forEach(i -> timesInTop[i]++);
            }
            for (int i = 0; i < size; i++) {
                if (timesInTop[i] * 5L >= prompts * 4L) { // >= 80%, in integers so 12 of 15 counts exactly
                    universal.add(new Neuron(layer, i));
                }
            }
        }
        return universal;
    }

    /**
     * The cached blacklist of a model, or, if none is cached, one detected on {@link #NEUTRAL_PROMPTS} and
     * cached. {@code activations} maps raw prompts to their last-position activations, [prompt][layer][neuron].
     */
    public static Blacklist cachedOrDetect(Path cacheDir, String fingerprint, Function<List<String>, float[][][]> activations)
            throws IOException {
        Optional<Blacklist> cached = Blacklist.load(cacheDir, fingerprint);
        if (cached.isPresent()) {
            return cached.get();
        }
        Blacklist detected = new Blacklist(fingerprint, detect(activations.apply(NEUTRAL_PROMPTS)));
        detected.save(cacheDir);
        return detected;
    }

    /** {@link #cachedOrDetect(Path, String, Function)} in the default cache, {@code ${CNA_HOME}/blacklists}. */
    public static Blacklist cachedOrDetect(String fingerprint, Function<List<String>, float[][][]> activations) throws IOException {
        return cachedOrDetect(Blacklist.cacheDir(), fingerprint, activations);
    }

    private static float[] layerOf(float[][][] activations, int prompt, int layer, int layers, int size) {
        if (activations[prompt].length != layers) {
            throw new IllegalArgumentException("prompt " + prompt + " has " + activations[prompt].length + " layers, prompt 0 has " + layers);
        }
        float[] h = activations[prompt][layer];
        if (h == null || h.length != size) {
            throw new IllegalArgumentException("prompt " + prompt + ", layer " + layer + ": expected " + size + " activations, got "
                    + (h == null ? "none" : h.length));
        }
        return h;
    }
}
