package dev.cna.core.cli;

import dev.cna.core.model.ModelSpec;
import dev.cna.core.runtime.BackendOptions;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.runtime.Numerics;
import dev.cna.core.runtime.torch.WeightStorage;
import picocli.CommandLine.Option;

/** The options every command that runs a model shares. */
final class ModelOptions {
    @Option(names = "--model", defaultValue = "default", description = "default, a catalog name (cna model list), hf:ORG/NAME or a path (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--backend", defaultValue = "${env:CNA_BACKEND:-cpu}",
            description = "cpu (computes on the file's quantized blocks) or torch (f32 reference on DJL/PyTorch, RelP) "
                    + "(default: $CNA_BACKEND or cpu; now ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--weights", defaultValue = "F32", description = "torch backend: weight storage F32 or F16 (default: ${DEFAULT-VALUE}).")
    WeightStorage weights;

    @Option(names = "--numerics", defaultValue = "EXACT",
            description = "torch backend: EXACT (f32) or LLAMA_CPP (llama.cpp's 8-bit activation rounding) (default: ${DEFAULT-VALUE}).")
    Numerics numerics;

    LoadedModel load() {
        return load(BackendOptions.parseKind(backend));
    }

    /** Loads on the given backend, whatever --backend says (RelP needs torch's autograd). */
    LoadedModel load(BackendOptions.Kind kind) {
        return LoadedModel.load(new ModelSpec(model), BackendOptions.of(kind).withStorage(weights).withNumerics(numerics));
    }
}
