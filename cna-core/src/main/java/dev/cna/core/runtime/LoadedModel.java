package dev.cna.core.runtime;

import dev.cna.core.model.ModelConfig;
import dev.cna.core.model.ModelFingerprint;
import dev.cna.core.model.ModelLoader;
import dev.cna.core.model.ModelSpec;
import dev.cna.core.model.WeightSource;
import dev.cna.core.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** A model ready to run: weights on a backend, its tokenizer, its id and fingerprint. */
public record LoadedModel(Path path, String id, String fingerprint, Backend backend, Tokenizer tokenizer)
        implements AutoCloseable {

    public static LoadedModel load(ModelSpec spec, BackendOptions options) {
        Path path = spec.existingPath();
        try (WeightSource source = ModelLoader.open(path)) {
            Tokenizer tokenizer = Tokenizer.create(source.tokenizerSpec());
            try {
                return new LoadedModel(path, source.modelId(), ModelFingerprint.of(path),
                        options.load(source), tokenizer);
            } catch (IOException e) {
                tokenizer.close();
                throw new UncheckedIOException("cannot fingerprint " + path, e);
            } catch (RuntimeException e) {
                tokenizer.close();
                throw e;
            }
        }
    }

    public ModelConfig config() {
        return backend.config();
    }

    @Override
    public void close() {
        tokenizer.close();
        backend.close();
    }
}
