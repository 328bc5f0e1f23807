package dev.cna.core.runtime;

import ai.djl.ndarray.types.DataType;

/** The element type the projection matrices are kept in; activations and norms stay f32. */
public enum WeightStorage {
    F32(DataType.FLOAT32),
    BF16(DataType.BFLOAT16),
    F16(DataType.FLOAT16);

    final DataType dataType;

    WeightStorage(DataType dataType) {
        this.dataType = dataType;
    }
}
