package dev.cna.core.runtime.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.cna.core.runtime.Activations;

import java.util.Arrays;

/** A layer's activations [rows, positions, width] as an NDArray; scaling and addition replace the array held. */
final class TorchActivations implements Activations {
    private NDArray h;

    TorchActivations(NDArray h) {
        this.h = h;
    }

    /** The activations after the hook (new arrays land in h's manager: the layer's scope). */
    NDArray array() {
        return h;
    }

    @Override
    public int rows() {
        return (int) h.getShape().get(0);
    }

    @Override
    public int positions() {
        return (int) h.getShape().get(1);
    }

    @Override
    public int width() {
        return (int) h.getShape().get(2);
    }

    @Override
    public void scale(float[] factors) {
        h = h.mul(h.getManager().create(factors, new Shape(rows(), 1, width())));
    }

    @Override
    public void add(float[] v) {
        h = h.add(h.getManager().create(v));
    }

    @Override
    public float[][] lastPosition() {
        try (NDArray last = h.get(":, -1, :")) {
            return split(last.toFloatArray());
        }
    }

    @Override
    public float[][] everyPosition() {
        return split(h.toFloatArray());
    }

    private float[][] split(float[] flat) {
        int width = width();
        float[][] out = new float[flat.length / width][];
        for (int r = 0; r < out.length; r++) {
            out[r] = Arrays.copyOfRange(flat, r * width, (r + 1) * width);
        }
        return out;
    }
}
