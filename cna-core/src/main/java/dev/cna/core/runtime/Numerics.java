package dev.cna.core.runtime;

/** How closely the forward pass follows which reference. */
public enum Numerics {
    /**
     * f32 arithmetic on the dequantized weights: within ~1e-4 logits of an exact float64 forward pass on the
     * same weights. The default.
     */
    EXACT,
    /**
     * llama.cpp's CPU rounding, to compare with it on GGUF files: activations meeting a block-quantized weight
     * are rounded to 8 bits per block of 32 with an f16 scale (ggml's Q8_0/Q8_1 vec_dot types), attention runs
     * on f16 keys, values, queries and probabilities (its f16 KV cache). Checked op by op against llama.cpp's
     * intermediate tensors: equal to float rounding except the f16 rounding of each Q8_1 block's sum, which
     * this leaves out. It cannot make tokens equal: 30 layers of 8-bit rounding turn any difference of float
     * summation order into ~0.2 logits, as they do between llama.cpp's own kernel schedules.
     */
    LLAMA_CPP
}
