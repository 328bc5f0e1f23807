package dev.cna.steering;

import dev.cna.core.runtime.MemoryBudget;
import dev.cna.core.runtime.LoadedModel;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/** GET /status: the model this instance serves, its scheduler and its registry, for operators and the gateway. */
@Path("/status")
@Produces(MediaType.APPLICATION_JSON)
public class StatusResource {
    private final SteeringRuntime runtime;

    StatusResource(SteeringRuntime runtime) {
        this.runtime = runtime;
    }

    /** @param backend what runs the model, e.g. "cpu (vector 512-bit (16 float lanes), 2 threads)" */
    public record ModelInfo(String id, String fingerprint, String backend, int layers, int intermediateSize, int contextLength) {}

    public record RegistryInfo(int circuits, long refused, long invalid, boolean caughtUp) {}

    /** The memory budget in MiB, what a token of KV cache and a pass cost, and the per-request token limit it sets. */
    public record MemoryInfo(long budgetMiB, long kvBytesPerToken, long scratchMiB, int prefillChunk, int maxTokensPerRequest) {}

    public record Status(ModelInfo model, Scheduler.Status scheduler, RegistryInfo registry, MemoryInfo memory) {}

    @GET
    public Status status() {
        Readiness.require(runtime);
        LoadedModel m = runtime.model();
        CircuitRegistry r = runtime.registry();
        MemoryBudget b = runtime.budget();
        return new Status(new ModelInfo(m.id(), m.fingerprint(), m.backend().name(), m.config().layers(), m.config().intermediateSize(),
                m.config().contextLength()), runtime.scheduler().status(),
                new RegistryInfo(r.all().size(), r.refusedCount(), r.invalidCount(), r.caughtUp()),
                new MemoryInfo(MemoryBudget.mib(b.bytes()), b.kvBytesPerToken(), MemoryBudget.mib(b.scratchBytes()),
                        m.backend().prefillChunk(), b.maxTokensPerRow()));
    }
}
