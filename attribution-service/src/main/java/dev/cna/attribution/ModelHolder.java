package dev.cna.attribution;

import dev.cna.core.cna.ActivationCollector;
import dev.cna.core.cna.ContrastiveAttribution;
import dev.cna.core.model.ModelSpec;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.runtime.Numerics;
import dev.cna.core.runtime.WeightStorage;
import io.quarkus.logging.Log;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** The model, loaded once by the pipeline thread; only that thread runs it. */
@ApplicationScoped
public class ModelHolder {
    @ConfigProperty(name = "cna.model", defaultValue = "default")
    String model;
    @ConfigProperty(name = "cna.model.weights", defaultValue = "F32")
    WeightStorage weights;
    @ConfigProperty(name = "cna.attribution.batch-size", defaultValue = "16")
    int batchSize;

    private volatile LoadedModel loaded;
    private volatile ContrastiveAttribution attribution;
    private volatile ActivationCollector collector;

    synchronized void load() {
        if (loaded != null) {
            return;
        }
        long t0 = System.nanoTime();
        LoadedModel m = LoadedModel.load(new ModelSpec(model), weights, Numerics.EXACT);
        collector = new ActivationCollector(m.transformer(), m.tokenizer(), batchSize);
        attribution = new ContrastiveAttribution(collector, m.config(), m.id(), m.fingerprint());
        attribution.blacklist(); // detect or read the cache now, not at the first circuit
        loaded = m;
        Log.infof("model %s (%s) loaded in %d ms", m.id(), m.fingerprint().substring(0, 12), (System.nanoTime() - t0) / 1_000_000);
    }

    public boolean isLoaded() {
        return loaded != null;
    }

    public LoadedModel model() {
        return loaded;
    }

    public ContrastiveAttribution attribution() {
        return attribution;
    }

    public ActivationCollector collector() {
        return collector;
    }

    @PreDestroy
    void close() {
        if (loaded != null) {
            loaded.close();
        }
    }
}
