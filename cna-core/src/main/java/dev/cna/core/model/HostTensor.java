package dev.cna.core.model;

import java.util.Arrays;

/**
 * A weight tensor dequantized to f32 in host memory, row-major with the outermost dimension first
 * (a linear layer's weight is [out, in], as in PyTorch).
 */
public record HostTensor(String name, int[] shape, float[] data) {

    public HostTensor {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException(
                    "tensor " + name + ": shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
        }
    }

    public long[] longShape() {
        return Arrays.stream(shape).asLongStream().toArray();
    }
}
