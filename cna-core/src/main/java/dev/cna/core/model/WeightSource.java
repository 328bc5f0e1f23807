package dev.cna.core.model;

import dev.cna.core.tokenizer.TokenizerSpec;

import java.nio.file.Path;

/**
 * A model on disk, whatever its format: its configuration, its weights under canonical names
 * ({@link TensorNames}) in PyTorch orientation, and what the tokenizer needs.
 */
public interface WeightSource extends AutoCloseable {
    /** The file or directory the model was read from. */
    Path path();

    ModelConfig config();

    boolean has(String canonicalName);

    /** The tensor dequantized to f32; throws {@link ModelFormatException} naming the file and tensor when it cannot. */
    HostTensor tensor(String canonicalName);

    /**
     * The tensor as stored (quantized blocks stay blocks), memory-mapped, in the file's row order; throws
     * {@link ModelFormatException} naming the file and tensor when it cannot.
     */
    RawTensor raw(String canonicalName);

    /**
     * Whether {@link #raw} q and k rows are in GGUF's llama order, where each head's two rotary halves are
     * interleaved (convert_hf_to_gguf.py's permute): rope then rotates adjacent pairs (2i, 2i + 1) instead of
     * (i, i + headDim / 2). {@link #tensor} always returns Hugging Face order.
     */
    default boolean interleavedRotaryRows() {
        return false;
    }

    /**
     * Whether the file stores this tensor block-quantized (Q4_0, Q4_1, Q8_0, K-quants...). llama.cpp then
     * rounds the activations that meet it to 8 bits, which {@code Numerics.LLAMA_CPP} reproduces.
     */
    default boolean blockQuantized(String canonicalName) {
        return false;
    }

    TokenizerSpec tokenizerSpec();

    /** A short model id for humans and circuit definitions, e.g. "SmolLM2-135M-Instruct.Q4_1". */
    String modelId();

    @Override
    void close();
}
