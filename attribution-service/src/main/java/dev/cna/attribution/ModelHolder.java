package dev.cna.attribution;

import java.util.Optional;
import dev.cna.core.attribution.ActivationCollector;
import dev.cna.core.attribution.ContrastiveAttribution;
import dev.cna.core.model.ModelSpec;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.runtime.MemoryBudget;
import dev.cna.core.runtime.BackendOptions;
import dev.cna.core.runtime.torch.WeightStorage;
import io.quarkus.logging.Log;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** The model, loaded once by the pipeline thread; only that thread runs it. */
@ApplicationScoped
public class ModelHolder {
    @ConfigProperty(name = "cna.model", defaultValue = "default")
    String model;
    /** cpu (quantized blocks, the default) or torch (f32 reference); CNA_BACKEND in the environment. */
    @ConfigProperty(name = "cna.backend", defaultValue = "cpu")
    String backend = "cpu";
    /** torch backend only: F32 or F16 projections. */
    @ConfigProperty(name = "cna.model.weights", defaultValue = "F32")
    WeightStorage weights;
    /** cpu backend compute threads; unset = one per core. */
    @ConfigProperty(name = "cna.threads")
    Optional<Integer> threads = Optional.empty();
    @ConfigProperty(name = "cna.attribution.batch-size", defaultValue = "16")
    int batchSize;
    /** Most padded tokens (rows x longest prompt) per forward pass; also capped by what the memory budget holds. */
    @ConfigProperty(name = "cna.attribution.batch-tokens", defaultValue = "4096")
    int batchTokens = ActivationCollector.DEFAULT_BATCH_TOKENS;
    /** Native memory for one forward pass's KV cache and scratch (weights excluded); a prompt beyond it is too-large. */
    @ConfigProperty(name = "cna.attribution.memory-budget", defaultValue = "2g")
    String memoryBudget = "2g";
    /** Prompt positions per forward pass (Backend.prefillChunk): bounds the attention scratch. */
    @ConfigProperty(name = "cna.prefill-chunk", defaultValue = "256")
    int prefillChunk = 256;

    private volatile LoadedModel loaded;
    private volatile MemoryBudget budget;
    private volatile ContrastiveAttribution attribution;
    private volatile ActivationCollector collector;

    synchronized void load() {
        if (loaded != null) {
            return;
        }
        long t0 = System.nanoTime();
        MemoryBudget b = null;
        BackendOptions options = BackendOptions.of(BackendOptions.parseKind(backend)).withStorage(weights);
        LoadedModel m = LoadedModel.load(new ModelSpec(model), threads.map(options::withThreads).orElse(options));
        try {
            m.backend().setPrefillChunk(prefillChunk);
            b = MemoryBudget.of(m.config(), MemoryBudget.parseBytes(memoryBudget), prefillChunk);
        } catch (RuntimeException e) {
            m.close();
            throw new IllegalArgumentException("cna.attribution.memory-budget / cna.prefill-chunk: " + e.getMessage(), e);
        }
        // A batch's KV cache (rows x longest prompt) plus one pass's scratch stays within the budget.
        int tokens = (int) Math.max(1, Math.min(batchTokens, (b.bytes() - b.scratchBytes()) / b.kvBytesPerToken()));
        collector = new ActivationCollector(m.backend(), m.tokenizer(), batchSize, tokens);
        attribution = new ContrastiveAttribution(collector, m.config(), m.id(), m.fingerprint());
        attribution.blacklist(); // detect or read the cache now, not at the first circuit
        budget = b;
        loaded = m;
        Log.infof("model %s (%s) loaded in %d ms on %s; memory budget %d MiB (KV %d KiB per token, %d MiB scratch per pass of %d"
                        + " positions): batches of up to %d prompts and %d tokens, prompts up to %d tokens",
                m.id(), m.fingerprint().substring(0, 12), (System.nanoTime() - t0) / 1_000_000, m.backend().name(), MemoryBudget.mib(b.bytes()),
                b.kvBytesPerToken() >> 10, MemoryBudget.mib(b.scratchBytes()), prefillChunk, batchSize, tokens, b.maxTokensPerRow());
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

    /** The memory budget of a forward pass: KV cache plus scratch, weights excluded. */
    public MemoryBudget budget() {
        return budget;
    }

    @PreDestroy
    void close() {
        if (loaded != null) {
            loaded.close();
        }
    }
}
