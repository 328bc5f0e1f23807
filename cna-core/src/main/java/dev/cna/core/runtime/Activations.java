package dev.cna.core.runtime;

/**
 * One layer's activations during a forward pass, as a hook sees them, whatever backend holds them: logically
 * [rows, positions, width] (width = intermediate size at the down projection's input, hidden size at the MLP's
 * output), the rows left-padded so every row's newest token sits at the last position. Padding positions carry
 * no meaning. The operations are the ones steering, CAA and capture need; each backend implements them on its
 * own storage (NDArrays, or plain float rows).
 */
public interface Activations {
    int rows();

    int positions();

    int width();

    /**
     * Multiplies row r at every position by factors[r * width + i], in place: neuron scaling.
     *
     * @param factors [rows * width]
     */
    void scale(float[] factors);

    /** Adds v[width] at every position of every row, in place: activation addition. */
    void add(float[] v);

    /** A copy of each row's last position, [rows][width]. */
    float[][] lastPosition();

    /** A copy of every position, [rows * positions][width], row-major (padding positions as the backend has them). */
    float[][] everyPosition();
}
