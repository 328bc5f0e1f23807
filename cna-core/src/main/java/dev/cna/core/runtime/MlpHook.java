package dev.cna.core.runtime;

/**
 * Called in every layer at the input of the down projection, the neuron activations h = act(gate) * up that
 * CNA reads and steers, and optionally at the MLP's output (the residual-stream baseline CAA adds there).
 * With no hook the forward pass makes no call at all. Hooks work on any {@link Backend}.
 */
public interface MlpHook {
    /** Whether {@link #apply} wants this layer; lets a hook skip layers without touching the tensor. */
    boolean wants(int layer);

    /**
     * @param h activations [rows, positions, intermediateSize]; read, or changed in place before the down
     *          projection reads them
     */
    void apply(int layer, Activations h);

    /** Whether {@link #afterMlp} wants this layer. */
    default boolean wantsOutput(int layer) {
        return false;
    }

    /** @param out the MLP's output [rows, positions, hidden] before it joins the residual stream; may change in place */
    default void afterMlp(int layer, Activations out) {}
}
