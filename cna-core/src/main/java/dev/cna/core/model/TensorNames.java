package dev.cna.core.model;

/**
 * Canonical tensor names used inside the engine. They follow llama.cpp's GGUF names; the Hugging Face
 * reader maps its names onto these, so the forward pass knows one naming only.
 */
public final class TensorNames {
    public static final String TOKEN_EMBEDDING = "token_embd.weight";
    public static final String OUTPUT_NORM = "output_norm.weight";
    public static final String OUTPUT = "output.weight";
    /** Per-frequency rope divisors (llama.cpp stores Llama 3 rope scaling this way). */
    public static final String ROPE_FREQS = "rope_freqs.weight";

    private TensorNames() {}

    public static String attnNorm(int layer) { return block(layer, "attn_norm.weight"); }
    public static String attnQ(int layer) { return block(layer, "attn_q.weight"); }
    public static String attnK(int layer) { return block(layer, "attn_k.weight"); }
    public static String attnV(int layer) { return block(layer, "attn_v.weight"); }
    public static String attnQBias(int layer) { return block(layer, "attn_q.bias"); }
    public static String attnKBias(int layer) { return block(layer, "attn_k.bias"); }
    public static String attnVBias(int layer) { return block(layer, "attn_v.bias"); }
    public static String attnOutput(int layer) { return block(layer, "attn_output.weight"); }
    public static String ffnNorm(int layer) { return block(layer, "ffn_norm.weight"); }
    public static String ffnGate(int layer) { return block(layer, "ffn_gate.weight"); }
    public static String ffnUp(int layer) { return block(layer, "ffn_up.weight"); }
    public static String ffnDown(int layer) { return block(layer, "ffn_down.weight"); }

    private static String block(int layer, String suffix) {
        return "blk." + layer + "." + suffix;
    }
}
