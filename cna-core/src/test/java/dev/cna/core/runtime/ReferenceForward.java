package dev.cna.core.runtime;

import dev.cna.core.model.HostTensor;
import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.TensorNames;
import dev.cna.core.model.WeightSource;

/**
 * A deliberately naive forward pass in plain Java loops, written from the Hugging Face modeling code and
 * independent of {@link Backend}: the reference the DJL forward pass is tested against on tiny models.
 */
final class ReferenceForward {
    private final ModelConfig c;
    private final WeightSource w;
    /** Neuron activations h[layer][position][neuron] of the last run. */
    float[][][] activations;
    /** The residual stream after the last layer, [position][hidden], of the last run. */
    float[][] finalResidual;

    ReferenceForward(WeightSource w) {
        this.c = w.config();
        this.w = w;
    }

    /** Logits at every position; factors[layer][neuron] (or null) scales neurons before the down projection. */
    float[][] logits(int[] tokens, float[][] factors) {
        int n = tokens.length;
        int hd = c.headDim();
        float[][] x = new float[n][];
        HostTensor embed = w.tensor(TensorNames.TOKEN_EMBEDDING);
        for (int t = 0; t < n; t++) {
            x[t] = row(embed, tokens[t]);
        }
        activations = new float[c.layers()][n][];
        for (int l = 0; l < c.layers(); l++) {
            HostTensor wq = w.tensor(TensorNames.attnQ(l));
            HostTensor wk = w.tensor(TensorNames.attnK(l));
            HostTensor wv = w.tensor(TensorNames.attnV(l));
            HostTensor wo = w.tensor(TensorNames.attnOutput(l));
            float[][] q = new float[n][];
            float[][] k = new float[n][];
            float[][] v = new float[n][];
            for (int t = 0; t < n; t++) {
                float[] h = rmsNorm(x[t], w.tensor(TensorNames.attnNorm(l)).data());
                q[t] = rope(addBias(matVec(wq, h), l, TensorNames.attnQBias(l)), t, c.heads());
                k[t] = rope(addBias(matVec(wk, h), l, TensorNames.attnKBias(l)), t, c.kvHeads());
                v[t] = addBias(matVec(wv, h), l, TensorNames.attnVBias(l));
            }
            for (int t = 0; t < n; t++) {
                float[] attended = new float[c.heads() * hd];
                for (int head = 0; head < c.heads(); head++) {
                    int kvHead = head / (c.heads() / c.kvHeads());
                    double[] scores = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int s = 0; s <= t; s++) {
                        double dot = 0;
                        for (int d = 0; d < hd; d++) {
                            dot += q[t][head * hd + d] * k[s][kvHead * hd + d];
                        }
                        scores[s] = dot / Math.sqrt(hd);
                        max = Math.max(max, scores[s]);
                    }
                    double sum = 0;
                    for (int s = 0; s <= t; s++) {
                        scores[s] = Math.exp(scores[s] - max);
                        sum += scores[s];
                    }
                    for (int s = 0; s <= t; s++) {
                        for (int d = 0; d < hd; d++) {
                            attended[head * hd + d] += (float) (scores[s] / sum * v[s][kvHead * hd + d]);
                        }
                    }
                }
                x[t] = add(x[t], matVec(wo, attended));
            }
            for (int t = 0; t < n; t++) {
                float[] h = rmsNorm(x[t], w.tensor(TensorNames.ffnNorm(l)).data());
                float[] gate = matVec(w.tensor(TensorNames.ffnGate(l)), h);
                float[] up = matVec(w.tensor(TensorNames.ffnUp(l)), h);
                float[] act = new float[gate.length];
                for (int i = 0; i < act.length; i++) {
                    act[i] = (float) (gate[i] / (1 + Math.exp(-gate[i])) * up[i]);
                    if (factors != null && factors[l] != null) {
                        act[i] *= factors[l][i];
                    }
                }
                activations[l][t] = act;
                x[t] = add(x[t], matVec(w.tensor(TensorNames.ffnDown(l)), act));
            }
        }
        finalResidual = x;
        HostTensor head = c.tiedEmbeddings() ? embed : w.tensor(TensorNames.OUTPUT);
        float[][] logits = new float[n][];
        for (int t = 0; t < n; t++) {
            logits[t] = matVec(head, rmsNorm(x[t], w.tensor(TensorNames.OUTPUT_NORM).data()));
        }
        return logits;
    }

    private float[] addBias(float[] y, int layer, String name) {
        if (c.attentionBias()) {
            float[] b = w.tensor(name).data();
            for (int i = 0; i < y.length; i++) {
                y[i] += b[i];
            }
        }
        return y;
    }

    /** Hugging Face rotate_half rope: pairs (i, i + d/2) inside each head. */
    private float[] rope(float[] y, int position, int heads) {
        int hd = c.headDim();
        int half = hd / 2;
        float[] divisors = w.has(TensorNames.ROPE_FREQS) ? w.tensor(TensorNames.ROPE_FREQS).data() : null;
        float[] out = y.clone();
        for (int head = 0; head < heads; head++) {
            for (int i = 0; i < half; i++) {
                double freq = Math.pow(c.ropeTheta(), -2.0 * i / hd);
                if (divisors != null) {
                    freq /= divisors[i];
                } else if (c.ropeScaling() != null) {
                    freq = llama3(freq, c.ropeScaling());
                }
                double angle = position * freq;
                double a = y[head * hd + i];
                double b = y[head * hd + i + half];
                out[head * hd + i] = (float) (a * Math.cos(angle) - b * Math.sin(angle));
                out[head * hd + i + half] = (float) (b * Math.cos(angle) + a * Math.sin(angle));
            }
        }
        return out;
    }

    /** Llama 3 rope scaling as in transformers' _compute_llama3_parameters. */
    private static double llama3(double freq, ModelConfig.RopeScaling s) {
        double wavelen = 2 * Math.PI / freq;
        double lowFreqWavelen = s.originalContextLength() / s.lowFreqFactor();
        double highFreqWavelen = s.originalContextLength() / s.highFreqFactor();
        if (wavelen > lowFreqWavelen) {
            return freq / s.factor();
        }
        if (wavelen < highFreqWavelen) {
            return freq;
        }
        double smooth = (s.originalContextLength() / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
        return (1 - smooth) * freq / s.factor() + smooth * freq;
    }

    private float[] rmsNorm(float[] x, float[] weight) {
        double ss = 0;
        for (float v : x) {
            ss += v * v;
        }
        double scale = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) (x[i] * scale * weight[i]);
        }
        return out;
    }

    private static float[] matVec(HostTensor m, float[] x) {
        int rows = m.shape()[0];
        int cols = m.shape()[1];
        float[] out = new float[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int i = 0; i < cols; i++) {
                s += m.data()[r * cols + i] * x[i];
            }
            out[r] = (float) s;
        }
        return out;
    }

    private static float[] row(HostTensor m, int r) {
        int cols = m.shape()[1];
        float[] out = new float[cols];
        System.arraycopy(m.data(), r * cols, out, 0, cols);
        return out;
    }

    private static float[] add(float[] a, float[] b) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i];
        }
        return out;
    }
}
