package dev.cna.steering;

import dev.cna.api.Topics;
import dev.cna.core.model.ModelSpec;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.runtime.MemoryBudget;
import dev.cna.core.runtime.BackendOptions;
import dev.cna.core.runtime.torch.WeightStorage;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.Optional;

/**
 * Loads the model, then starts the circuit registry and the scheduler, off the start-up thread so health
 * answers (not ready) while the model loads. Registers the service's metrics.
 */
@ApplicationScoped
public class SteeringRuntime {
    @ConfigProperty(name = "cna.model", defaultValue = "default")
    String model;
    /** cpu (quantized blocks, the default) or torch (f32 reference); CNA_BACKEND in the environment. */
    @ConfigProperty(name = "cna.backend", defaultValue = "cpu")
    String backend;
    /** torch backend only: F32 or F16 projections. */
    @ConfigProperty(name = "cna.model.weights", defaultValue = "F32")
    WeightStorage weights;
    /** Compute threads (cpu backend, PyTorch intra-op); unset = one per core. Set it when other processes share the cores. */
    @ConfigProperty(name = "cna.threads")
    Optional<Integer> threads;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @ConfigProperty(name = "cna.steering.circuits-topic", defaultValue = Topics.CIRCUITS)
    String circuitsTopic;
    @ConfigProperty(name = "cna.steering.max-batch", defaultValue = "16")
    int maxBatch;
    @ConfigProperty(name = "cna.steering.queue-capacity", defaultValue = "64")
    int queueCapacity;
    /** Native memory for KV caches and one pass's scratch (weights excluded): what admission counts against. */
    @ConfigProperty(name = "cna.steering.memory-budget", defaultValue = "2g")
    String memoryBudget;
    /** Prompt positions per prefill pass: smaller keeps running streams smoother while a long prompt joins. */
    @ConfigProperty(name = "cna.prefill-chunk", defaultValue = "256")
    int prefillChunk;

    private final MeterRegistry meters;
    private final DistributionSummary swapLatency;
    private volatile LoadedModel loaded;
    private volatile CircuitRegistry registry;
    private volatile Scheduler scheduler;
    private volatile MemoryBudget budget;
    private volatile TokenTexts tokenTexts;
    private volatile String failure;

    SteeringRuntime(MeterRegistry meters) {
        this.meters = meters;
        this.swapLatency = DistributionSummary.builder("cna.steering.swap.latency")
                .description("Time from a circuit version's publication to the first token generated under it")
                .baseUnit("milliseconds").publishPercentiles(0.5, 0.99).register(meters);
    }

    void start(@Observes StartupEvent event) {
        threads.ifPresent(n -> System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(n)));
        Thread loader = new Thread(this::load, "cna-model-loader");
        loader.setDaemon(true);
        loader.start();
    }

    private void load() {
        try {
            long t0 = System.nanoTime();
            LoadedModel m = LoadedModel.load(new ModelSpec(model), backendOptions());
            Log.infof("model %s (%s) loaded in %d ms on %s", m.id(), m.fingerprint().substring(0, 12),
                    (System.nanoTime() - t0) / 1_000_000, m.backend().name());
            CircuitRegistry r = new CircuitRegistry(bootstrap, circuitsTopic, m.config(), m.fingerprint());
            m.backend().setPrefillChunk(prefillChunk);
            MemoryBudget b = MemoryBudget.of(m.config(), MemoryBudget.parseBytes(memoryBudget), prefillChunk);
            Log.infof("memory budget %d MiB (KV %d KiB per token, %d MiB scratch per pass): up to %d tokens per request",
                    MemoryBudget.mib(b.bytes()), b.kvBytesPerToken() >> 10, MemoryBudget.mib(b.scratchBytes()), b.maxTokensPerRow());
            Scheduler s = new Scheduler(m.backend(), m.tokenizer(), b, maxBatch, queueCapacity);
            r.start();
            s.start();
            registerMeters(r, s);
            budget = b;
            tokenTexts = new TokenTexts(m.tokenizer());
            loaded = m;
            registry = r;
            scheduler = s;
        } catch (RuntimeException | LinkageError e) {
            failure = "the model did not load: " + e;
            Log.errorf(e, "cannot start: the model %s did not load", model);
        }
    }

    private BackendOptions backendOptions() {
        BackendOptions o = BackendOptions.of(BackendOptions.parseKind(backend)).withStorage(weights);
        return threads.map(o::withThreads).orElse(o);
    }

    private void registerMeters(CircuitRegistry r, Scheduler s) {
        Gauge.builder("cna.steering.queue.depth", s, x -> x.status().queued()).description("Requests waiting for a slot").register(meters);
        Gauge.builder("cna.steering.batch.size", s, x -> x.status().running()).description("Rows in the decode batch").register(meters);
        FunctionCounter.builder("cna.steering.tokens", s, x -> x.status().tokens()).description("Tokens generated").register(meters);
        FunctionCounter.builder("cna.steering.steps", s, x -> x.status().steps()).description("Decode steps run").register(meters);
        FunctionCounter.builder("cna.steering.preempted.passes", s, x -> x.status().preemptedPasses())
                .description("Decode steps and prefill chunks stopped and run again because a running stream's circuit changed").register(meters);
        Gauge.builder("cna.steering.circuits", r, x -> x.all().size()).description("Circuits in the registry").register(meters);
        FunctionCounter.builder("cna.steering.circuits.refused", r, CircuitRegistry::refusedCount)
                .description("Circuit records of another model").register(meters);
        FunctionCounter.builder("cna.steering.circuits.invalid", r, CircuitRegistry::invalidCount)
                .description("Circuit records that are not a valid circuit").register(meters);
    }

    void stop(@Observes ShutdownEvent event) {
        if (scheduler != null) {
            scheduler.close();
        }
        if (registry != null) {
            registry.close();
        }
        if (loaded != null) {
            loaded.close();
        }
    }

    /** Ready: the model is loaded and the registry has read the whole circuit topic and still follows it. */
    public boolean ready() {
        return scheduler != null && registry.caughtUp() && registry.failure() == null && scheduler.failure() == null;
    }

    /** Why the service cannot become ready, or null. */
    public String failure() {
        if (failure != null) {
            return failure;
        }
        if (scheduler != null && scheduler.failure() != null) {
            return scheduler.failure();
        }
        return registry != null ? registry.failure() : null;
    }

    public LoadedModel model() {
        return loaded;
    }

    public CircuitRegistry registry() {
        return registry;
    }

    public MemoryBudget budget() {
        return budget;
    }

    /** The served tokenizer's token texts and bytes, for log-probabilities. */
    TokenTexts tokenTexts() {
        return tokenTexts;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public void recordSwapLatency(long millis) {
        swapLatency.record(millis);
    }
}
