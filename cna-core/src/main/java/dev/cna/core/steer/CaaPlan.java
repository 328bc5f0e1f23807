package dev.cna.core.steer;

import dev.cna.core.runtime.Activations;
import dev.cna.core.runtime.MlpHook;

/**
 * The residual-stream baseline CNA is compared against (contrastive activation addition): at every
 * position, add alpha * (mean MLP output over positive prompts - mean over negative prompts) to each
 * layer's MLP output.
 */
public final class CaaPlan implements MlpHook, AutoCloseable {
    private final float[][] additions; // [layer][hidden], null where the layer is untouched

    /**
     * @param direction [layer][hidden] mean-difference vectors (null layers untouched), from {@link #meanDifference}
     */
    public CaaPlan(float[][] direction, float alpha) {
        additions = new float[direction.length][];
        for (int l = 0; l < direction.length; l++) {
            if (direction[l] != null && alpha != 0) {
                additions[l] = new float[direction[l].length];
                for (int i = 0; i < additions[l].length; i++) {
                    additions[l][i] = alpha * direction[l][i];
                }
            }
        }
    }

    /** mean over positive prompts minus mean over negative prompts, per layer, from [prompt][layer][hidden]. */
    public static float[][] meanDifference(float[][][] positive, float[][][] negative) {
        int layers = positive[0].length;
        float[][] out = new float[layers][];
        for (int l = 0; l < layers; l++) {
            if (positive[0][l] == null) {
                continue;
            }
            double[] p = mean(positive, l);
            double[] n = mean(negative, l);
            out[l] = new float[p.length];
            for (int i = 0; i < p.length; i++) {
                out[l][i] = (float) (p[i] - n[i]);
            }
        }
        return out;
    }

    private static double[] mean(float[][][] prompts, int layer) {
        double[] sum = new double[prompts[0][layer].length];
        for (float[][] prompt : prompts) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += prompt[layer][i];
            }
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] /= prompts.length;
        }
        return sum;
    }

    @Override
    public boolean wants(int layer) {
        return false;
    }

    @Override
    public void apply(int layer, Activations h) {}

    @Override
    public boolean wantsOutput(int layer) {
        return additions[layer] != null;
    }

    @Override
    public void afterMlp(int layer, Activations out) {
        out.add(additions[layer]);
    }

    /** Nothing to free (kept so callers can hold any hook in try-with-resources). */
    @Override
    public void close() {}
}
