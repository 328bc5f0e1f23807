package dev.cna.core.cli;

import dev.cna.core.model.ModelSpec;
import dev.cna.core.runtime.LoadedModel;
import dev.cna.core.runtime.Numerics;
import dev.cna.core.runtime.WeightStorage;
import picocli.CommandLine.Option;

/** The options every command that runs a model shares. */
final class ModelOptions {
    @Option(names = "--model", defaultValue = "default", description = "default, hf:ORG/NAME or a path (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--weights", defaultValue = "F32", description = "Weight storage: F32 or F16 (default: ${DEFAULT-VALUE}).")
    WeightStorage weights;

    @Option(names = "--numerics", defaultValue = "EXACT",
            description = "EXACT (f32) or LLAMA_CPP (llama.cpp's 8-bit activation rounding) (default: ${DEFAULT-VALUE}).")
    Numerics numerics;

    LoadedModel load() {
        return LoadedModel.load(new ModelSpec(model), weights, numerics);
    }
}
