package dev.cna.core.model;

/**
 * Shape and hyper-parameters of a Llama-family decoder (llama, mistral, qwen2), whatever file it came from.
 *
 * @param architecture   "llama", "mistral" or "qwen2"
 * @param headDim        size of one attention head (hiddenSize / heads unless the file says otherwise)
 * @param ropeScaling    llama3-style frequency scaling, or null
 * @param attentionBias  q/k/v projections carry a bias (qwen2)
 * @param tiedEmbeddings the output head reuses the token embedding matrix
 */
public record ModelConfig(
        String architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        float rmsNormEps,
        float ropeTheta,
        RopeScaling ropeScaling,
        int contextLength,
        boolean attentionBias,
        boolean tiedEmbeddings) {

    /** Llama 3.x "llama3" rope scaling parameters. */
    public record RopeScaling(float factor, float lowFreqFactor, float highFreqFactor, int originalContextLength) {}

    public int neurons() {
        return layers * intermediateSize;
    }
}
