package dev.cna.core.runtime.cpu;

import dev.cna.core.runtime.Activations;

/**
 * A layer's activations in the cpu backend: one float[width] per token actually computed, with a map from the
 * left-padded [rows, positions] layout hooks see to those tokens (-1 where a row is padding). Padding reads as
 * zeros and is never written.
 */
final class RowActivations implements Activations {
    private final float[][] tokens;
    private final int[] slot; // [rows * positions] -> index into tokens, or -1
    private final int rows;
    private final int positions;
    private final int width;

    RowActivations(float[][] tokens, int[] slot, int rows, int positions, int width) {
        this.tokens = tokens;
        this.slot = slot;
        this.rows = rows;
        this.positions = positions;
        this.width = width;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int positions() {
        return positions;
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public void scale(float[] factors) {
        for (int r = 0; r < rows; r++) {
            for (int p = 0; p < positions; p++) {
                int s = slot[r * positions + p];
                if (s < 0) {
                    continue;
                }
                float[] h = tokens[s];
                for (int i = 0, f = r * width; i < width; i++, f++) {
                    h[i] *= factors[f];
                }
            }
        }
    }

    @Override
    public void add(float[] v) {
        for (int s : slot) {
            if (s >= 0) {
                float[] h = tokens[s];
                for (int i = 0; i < width; i++) {
                    h[i] += v[i];
                }
            }
        }
    }

    @Override
    public float[][] lastPosition() {
        float[][] out = new float[rows][];
        for (int r = 0; r < rows; r++) {
            out[r] = copy(slot[r * positions + positions - 1]);
        }
        return out;
    }

    @Override
    public float[][] everyPosition() {
        float[][] out = new float[slot.length][];
        for (int i = 0; i < slot.length; i++) {
            out[i] = copy(slot[i]);
        }
        return out;
    }

    private float[] copy(int s) {
        return s < 0 ? new float[width] : tokens[s].clone();
    }
}
