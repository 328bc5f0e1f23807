package dev.cna.core.model;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How a user names a model: empty or "default" for the default model, {@code hf:ORG/NAME} for a Hugging Face
 * repository in the model store, or a path to a GGUF file or a Hugging Face directory.
 */
public record ModelSpec(String text) {
    public static final String HF_PREFIX = "hf:";

    public boolean isDefault() {
        return text == null || text.isBlank() || text.equals("default");
    }

    public boolean isHuggingFace() {
        return text != null && text.startsWith(HF_PREFIX);
    }

    /** "ORG/NAME" of an hf: spec. */
    public String repository() {
        String repo = text.substring(HF_PREFIX.length());
        if (!repo.matches("[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("expected hf:ORG/NAME, got " + text);
        }
        return repo;
    }

    /** Where the model lives (or will live, once pulled). */
    public Path path() {
        if (isDefault()) {
            return ModelStore.defaultModel();
        }
        if (isHuggingFace()) {
            return ModelStore.modelsDir().resolve(repository().replace("/", "--"));
        }
        return Path.of(text);
    }

    /** The path, checked to exist, with a hint on how to get the model otherwise. */
    public Path existingPath() {
        Path p = path();
        if (!Files.exists(p)) {
            String hint = isDefault() || isHuggingFace() ? "; run ./cna model pull" + (isDefault() ? "" : " " + text) : "";
            throw new IllegalArgumentException("model not found: " + p + hint);
        }
        return p;
    }
}
