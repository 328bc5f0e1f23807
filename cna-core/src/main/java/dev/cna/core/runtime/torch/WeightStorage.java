package dev.cna.core.runtime.torch;

import ai.djl.ndarray.types.DataType;

/**
 * The element type the projection matrices are kept in; activations and norms stay f32. No bf16: its
 * matmul aborted the JVM inside PyTorch 2.7.1 (CPU) here, and f16, which works, decodes 4x slower than f32
 * (bench/results/engine.md).
 */
public enum WeightStorage {
    F32(DataType.FLOAT32),
    F16(DataType.FLOAT16);

    final DataType dataType;

    WeightStorage(DataType dataType) {
        this.dataType = dataType;
    }
}
