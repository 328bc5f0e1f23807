package dev.cna.core.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.util.Arrays;

/**
 * Records the neuron activations (or the MLP outputs) of chosen layers, at the last position of every row
 * (where, with left padding, each prompt ends) or at every position. The slices stay on the device during
 * the forward pass and reach the host in one copy.
 */
public final class ActivationCapture implements MlpHook, AutoCloseable {
    private final boolean[] layers;
    private final boolean everyPosition;
    private final boolean mlpOutput;
    private final NDManager manager = NDManager.newBaseManager("PyTorch");
    private final NDArray[] captured;

    private ActivationCapture(boolean[] layers, boolean everyPosition, boolean mlpOutput) {
        this.layers = layers;
        this.everyPosition = everyPosition;
        this.mlpOutput = mlpOutput;
        this.captured = new NDArray[layers.length];
    }

    /** Captures the last position of every row in the given layers (true = capture). */
    public static ActivationCapture lastPosition(boolean[] layers) {
        return new ActivationCapture(layers.clone(), false, false);
    }

    /** Captures the MLP output (after the down projection) at the last position of every row. */
    public static ActivationCapture mlpOutputLastPosition(boolean[] layers) {
        return new ActivationCapture(layers.clone(), false, true);
    }

    /** Captures every position of every row in the given layers. */
    public static ActivationCapture everyPosition(boolean[] layers) {
        return new ActivationCapture(layers.clone(), true, false);
    }

    @Override
    public boolean wants(int layer) {
        return !mlpOutput && layers[layer];
    }

    @Override
    public NDArray apply(int layer, NDArray h) {
        keep(layer, h);
        return h;
    }

    @Override
    public boolean wantsOutput(int layer) {
        return mlpOutput && layers[layer];
    }

    @Override
    public NDArray afterMlp(int layer, NDArray out) {
        keep(layer, out);
        return out;
    }

    private void keep(int layer, NDArray h) {
        // A copy, not a view: a view would pin the whole [batch, positions, width] tensor of a chunk per layer.
        NDArray slice = everyPosition ? h.duplicate() : h.get(":, -1, :").duplicate();
        slice.attach(manager); // outlives the forward pass's own arrays
        if (captured[layer] != null) {
            captured[layer].close();
        }
        captured[layer] = slice;
    }

    /**
     * The activations of the last forward pass, per captured layer (null for others): [row][neuron] for
     * last-position capture, [row * positions + position][neuron] for every-position capture.
     */
    public float[][][] activations() {
        NDList present = new NDList();
        for (NDArray a : captured) {
            if (a != null) {
                present.add(a);
            }
        }
        if (present.isEmpty()) {
            throw new IllegalStateException("no forward pass has run through this capture");
        }
        float[] flat = NDArrays.stack(present).toFloatArray();
        int rows = (int) (present.get(0).size() / present.get(0).getShape().tail());
        int neurons = (int) present.get(0).getShape().tail();
        float[][][] out = new float[captured.length][][];
        int at = 0;
        for (int l = 0; l < captured.length; l++) {
            if (captured[l] == null) {
                continue;
            }
            out[l] = new float[rows][];
            for (int r = 0; r < rows; r++) {
                out[l][r] = Arrays.copyOfRange(flat, at, at + neurons);
                at += neurons;
            }
        }
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
