package dev.cna.core.runtime;

/**
 * Records the neuron activations (or the MLP outputs) of chosen layers, at the last position of every row
 * (where, with left padding, each prompt ends) or at every position. Each forward pass replaces what the
 * previous one recorded: after a chunked prefill it holds the last chunk, the one with every row's last token.
 */
public final class ActivationCapture implements MlpHook, AutoCloseable {
    private final boolean[] layers;
    private final boolean everyPosition;
    private final boolean mlpOutput;
    private final float[][][] captured;

    private ActivationCapture(boolean[] layers, boolean everyPosition, boolean mlpOutput) {
        this.layers = layers;
        this.everyPosition = everyPosition;
        this.mlpOutput = mlpOutput;
        this.captured = new float[layers.length][][];
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
    public void apply(int layer, Activations h) {
        keep(layer, h);
    }

    @Override
    public boolean wantsOutput(int layer) {
        return mlpOutput && layers[layer];
    }

    @Override
    public void afterMlp(int layer, Activations out) {
        keep(layer, out);
    }

    private void keep(int layer, Activations h) {
        captured[layer] = everyPosition ? h.everyPosition() : h.lastPosition();
    }

    /**
     * The activations of the last forward pass, per captured layer (null for others): [row][neuron] for
     * last-position capture, [row * positions + position][neuron] for every-position capture.
     *
     * @throws IllegalStateException when no forward pass has run through this capture
     */
    public float[][][] activations() {
        for (float[][] layer : captured) {
            if (layer != null) {
                return captured.clone();
            }
        }
        throw new IllegalStateException("no forward pass has run through this capture");
    }

    /** Nothing to free (kept so callers can hold any hook in try-with-resources). */
    @Override
    public void close() {}
}
