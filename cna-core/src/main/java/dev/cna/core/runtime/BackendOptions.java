package dev.cna.core.runtime;

import dev.cna.core.model.WeightSource;
import dev.cna.core.runtime.cpu.CpuBackend;
import dev.cna.core.runtime.torch.TorchBackend;
import dev.cna.core.runtime.torch.WeightStorage;

import java.util.Locale;

/**
 * Which backend runs a model, and its settings. {@code cpu} (the default) computes on the file's quantized blocks;
 * {@code torch} is DJL's PyTorch engine on f32 weights, the reference, with autograd for RelP and the llama.cpp
 * rounding mode. Chosen by {@code --backend} on the CLI and {@code CNA_BACKEND} (cna.backend) in the services.
 *
 * @param storage  torch only: the element type the projections are kept in
 * @param numerics torch only: {@link Numerics#LLAMA_CPP} reproduces llama.cpp's roundings
 * @param threads  cpu only: threads for products and attention
 */
public record BackendOptions(Kind kind, WeightStorage storage, Numerics numerics, int threads) {
    public enum Kind { CPU, TORCH }

    public BackendOptions {
        if (kind == Kind.CPU && numerics != Numerics.EXACT) {
            throw new IllegalArgumentException("numerics " + numerics + " exist on the torch backend only");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
    }

    /** The cpu backend on every core. */
    public static BackendOptions cpu() {
        return of(Kind.CPU);
    }

    /** The torch backend, f32 weights, exact numerics. */
    public static BackendOptions torch() {
        return of(Kind.TORCH);
    }

    public static BackendOptions of(Kind kind) {
        return new BackendOptions(kind, WeightStorage.F32, Numerics.EXACT, Runtime.getRuntime().availableProcessors());
    }

    /** "cpu" or "torch", any case. */
    public static Kind parseKind(String name) {
        try {
            return Kind.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("backend must be cpu or torch, got \"" + name + "\"");
        }
    }

    public BackendOptions withStorage(WeightStorage s) {
        return new BackendOptions(kind, s, numerics, threads);
    }

    public BackendOptions withThreads(int n) {
        return new BackendOptions(kind, storage, numerics, n);
    }

    public BackendOptions withNumerics(Numerics n) {
        return new BackendOptions(kind, storage, n, threads);
    }

    /** Loads the source's weights into this backend; a cpu backend maps the files, which stay valid once the source closes. */
    public Backend load(WeightSource source) {
        return switch (kind) {
            case CPU -> CpuBackend.load(source, threads);
            case TORCH -> TorchBackend.load(source, storage, numerics);
        };
    }
}
