package dev.cna.core.model;

import dev.cna.core.model.gguf.Dequantizer;
import dev.cna.core.tokenizer.TokenizerSpec;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;

/**
 * A weight source with some tensors replaced, for tests that change a model in memory: {@link #raw} gives the
 * replacement as stored, {@link #tensor} its dequantization, so every backend sees the same weights. Closing it
 * leaves the wrapped source open (its owner closes it).
 */
public final class ReplacedWeights implements WeightSource {
    private final WeightSource source;
    private final Map<String, RawTensor> replaced;

    public ReplacedWeights(WeightSource source, Map<String, RawTensor> replaced) {
        this.source = source;
        this.replaced = Map.copyOf(replaced);
    }

    /** Replacements given as f32 tensors. */
    public static ReplacedWeights f32(WeightSource source, Map<String, HostTensor> changed) {
        Map<String, RawTensor> raw = new java.util.HashMap<>();
        changed.forEach((name, t) -> raw.put(name, SyntheticModels.rawF32(source.path(), t)));
        return new ReplacedWeights(source, raw);
    }

    @Override
    public HostTensor tensor(String name) {
        RawTensor r = replaced.get(name);
        if (r == null) {
            return source.tensor(name);
        }
        float[] values = new float[r.rows() * r.cols()];
        Dequantizer.dequantize(r.type(), r.data().duplicate().order(ByteOrder.LITTLE_ENDIAN), values);
        int[] shape = source.has(name) ? source.tensor(name).shape() : new int[] {r.rows(), r.cols()};
        return new HostTensor(name, shape, values);
    }

    @Override
    public RawTensor raw(String name) {
        RawTensor r = replaced.get(name);
        return r != null ? r : source.raw(name);
    }

    @Override public Path path() { return source.path(); }
    @Override public ModelConfig config() { return source.config(); }
    @Override public boolean has(String name) { return source.has(name); }
    @Override public TokenizerSpec tokenizerSpec() { return source.tokenizerSpec(); }
    @Override public String modelId() { return source.modelId(); }
    @Override public void close() {}
}
