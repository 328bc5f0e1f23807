package dev.cna.core.runtime;

/** How closely the forward pass follows which reference. */
public enum Numerics {
    /**
     * f32 arithmetic on the dequantized weights: within ~1e-4 logits of an exact float64 forward pass on the
     * same weights. The default.
     */
    EXACT,
    /**
     * llama.cpp's CPU rounding, for token-for-token agreement with it on GGUF files: activations meeting a
     * block-quantized weight are rounded to 8 bits per block of 32 with an f16 scale (ggml's Q8_0/Q8_1
     * vec_dot types), attention runs on f16 keys, values and queries (its f16 KV cache), and, in passes of 64
     * tokens or more, on f16 probabilities.
     */
    LLAMA_CPP
}
