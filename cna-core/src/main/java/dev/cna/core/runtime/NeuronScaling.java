package dev.cna.core.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;
import java.util.List;

/**
 * Multiplies chosen neurons by chosen factors, separately for each batch row, at every position: the
 * steering hook. Factors for the same neuron compose multiplicatively. The per-layer scale arrays are built
 * once and reused for every forward pass of the batch.
 */
public final class NeuronScaling implements MlpHook, AutoCloseable {
    /** One neuron's factor: 0 ablates, 1 leaves it alone, above 1 amplifies, below 0 inverts. */
    public record Scale(int layer, int index, float factor) {}

    private final NDManager manager;
    private final NDArray[] scales; // per layer [batch, 1, intermediate], null where no row scales that layer

    /**
     * @param rows for each batch row, the neurons it scales (an empty list leaves the row unchanged)
     */
    public NeuronScaling(int layers, int intermediateSize, List<List<Scale>> rows) {
        int batch = rows.size();
        float[][] perLayer = new float[layers][];
        for (int b = 0; b < batch; b++) {
            for (Scale s : rows.get(b)) {
                if (s.layer < 0 || s.layer >= layers || s.index < 0 || s.index >= intermediateSize) {
                    throw new IllegalArgumentException("neuron (" + s.layer + ", " + s.index + ") is outside the model ("
                            + layers + " layers x " + intermediateSize + ")");
                }
                if (perLayer[s.layer] == null) {
                    perLayer[s.layer] = new float[batch * intermediateSize];
                    Arrays.fill(perLayer[s.layer], 1f);
                }
                perLayer[s.layer][b * intermediateSize + s.index] *= s.factor;
            }
        }
        manager = NDManager.newBaseManager("PyTorch");
        scales = new NDArray[layers];
        for (int l = 0; l < layers; l++) {
            if (perLayer[l] != null) {
                scales[l] = manager.create(perLayer[l], new Shape(batch, 1, intermediateSize));
            }
        }
    }

    @Override
    public boolean wants(int layer) {
        return scales[layer] != null;
    }

    @Override
    public NDArray apply(int layer, NDArray h) {
        return h.mul(scales[layer]);
    }

    @Override
    public void close() {
        manager.close();
    }
}
