package dev.cna.core.runtime;

import dev.cna.core.model.ModelConfig;

/** Rotary position embedding frequencies and a cos/sin table that grows with the longest position seen. */
public final class Rope {
    private final float[] inverseFrequencies;
    private float[] cos = new float[0];
    private float[] sin = new float[0];
    private int positions;

    /**
     * @param divisors per-frequency divisors from a GGUF rope_freqs tensor, or null; otherwise llama3 scaling
     *                 from the config applies when present
     */
    public Rope(ModelConfig config, float[] divisors) {
        int half = config.headDim() / 2;
        inverseFrequencies = new float[half];
        for (int i = 0; i < half; i++) {
            double f = Math.pow(config.ropeTheta(), -2.0 * i / config.headDim());
            if (divisors != null) {
                f /= divisors[i];
            } else if (config.ropeScaling() != null) {
                f = llama3Scaled(f, config.ropeScaling());
            }
            inverseFrequencies[i] = (float) f;
        }
    }

    /** Llama 3.x: long wavelengths are slowed by the factor, short ones kept, the band between interpolated. */
    private static double llama3Scaled(double frequency, ModelConfig.RopeScaling s) {
        double lowFreqWavelength = s.originalContextLength() / s.lowFreqFactor();
        double highFreqWavelength = s.originalContextLength() / s.highFreqFactor();
        double wavelength = 2 * Math.PI / frequency;
        if (wavelength < highFreqWavelength) {
            return frequency;
        }
        if (wavelength > lowFreqWavelength) {
            return frequency / s.factor();
        }
        double smooth = (s.originalContextLength() / wavelength - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
        return (1 - smooth) * frequency / s.factor() + smooth * frequency;
    }

    public int halfDim() {
        return inverseFrequencies.length;
    }

    /** cos and sin of position p for frequency i, laid out [p * halfDim + i]. */
    public void ensure(int maxPosition) {
        if (maxPosition < positions) {
            return;
        }
        int n = Math.max(maxPosition + 1, Math.max(2 * positions, 256));
        int half = halfDim();
        float[] c = new float[n * half];
        float[] s = new float[n * half];
        for (int p = 0; p < n; p++) {
            for (int i = 0; i < half; i++) {
                double angle = (double) p * inverseFrequencies[i];
                c[p * half + i] = (float) Math.cos(angle);
                s[p * half + i] = (float) Math.sin(angle);
            }
        }
        cos = c;
        sin = s;
        positions = n;
    }

    public float cos(int position, int i) {
        return cos[position * halfDim() + i];
    }

    public float sin(int position, int i) {
        return sin[position * halfDim() + i];
    }
}
