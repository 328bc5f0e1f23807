package dev.cna.core.runtime;

import ai.djl.ndarray.NDArray;

/**
 * Called in every layer at the input of the down projection, the neuron activations h = act(gate) * up that
 * CNA reads and steers. With no hook the forward pass makes no call at all.
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
}
