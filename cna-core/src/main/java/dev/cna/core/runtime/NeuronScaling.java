package dev.cna.core.runtime;

import java.util.Arrays;
import java.util.List;

/**
 * Multiplies chosen neurons by chosen factors, separately for each batch row, at every position: the
 * steering hook. Factors for the same neuron compose multiplicatively. The per-layer factor tables are built
 * once and reused for every forward pass of the batch.
 */
public final class NeuronScaling implements MlpHook, AutoCloseable {
    /** One neuron's factor: 0 ablates, 1 leaves it alone, above 1 amplifies, below 0 inverts. */
    public record Scale(int layer, int index, float factor) {}

    private final float[][] scales; // per layer [batch * intermediate], null where no row scales that layer

    /**
     * @param rows for each batch row, the neurons it scales (an empty list leaves the row unchanged)
     * @throws IllegalArgumentException for a neuron outside the model
     */
    public NeuronScaling(int layers, int intermediateSize, List<List<Scale>> rows) {
        int batch = rows.size();
        scales = new float[layers][];
        for (int b = 0; b < batch; b++) {
            for (Scale s : rows.get(b)) {
                if (s.layer < 0 || s.layer >= layers || s.index < 0 || s.index >= intermediateSize) {
                    throw new IllegalArgumentException("neuron (" + s.layer + ", " + s.index + ") is outside the model ("
                            + layers + " layers x " + intermediateSize + ")");
                }
                if (scales[s.layer] == null) {
                    scales[s.layer] = new float[batch * intermediateSize];
                    Arrays.fill(scales[s.layer], 1f);
                }
                scales[s.layer][b * intermediateSize + s.index] *= s.factor;
            }
        }
    }

    @Override
    public boolean wants(int layer) {
        return scales[layer] != null;
    }

    @Override
    public void apply(int layer, Activations h) {
        h.scale(scales[layer]);
    }

    /** Nothing to free (kept so callers can hold any hook in try-with-resources). */
    @Override
    public void close() {}
}
