package dev.cna.core.runtime;

import ai.djl.ndarray.NDArray;

/**
 * Called in every layer at the input of the down projection, the neuron activations h = act(gate) * up that
 * CNA reads and steers, and optionally at the MLP's output (the residual-stream baseline CAA adds there).
 * With no hook the forward pass makes no call at all.
 */
public interface MlpHook {
    /** Whether {@link #apply} wants this layer; lets a hook skip layers without touching the tensor. */
    boolean wants(int layer);

    /**
     * @param h activations [batch, positions, intermediateSize]; with left padding the last position of every
     *          row is that row's newest token
     * @return the activations to feed the down projection (h itself, or a scaled copy)
     */
    NDArray apply(int layer, NDArray h);

    /** Whether {@link #afterMlp} wants this layer. */
    default boolean wantsOutput(int layer) {
        return false;
    }

    /**
     * @param out the MLP's output [batch, positions, hidden], before it is added to the residual stream
     * @return what to add to the residual stream instead
     */
    default NDArray afterMlp(int layer, NDArray out) {
        return out;
    }
}
