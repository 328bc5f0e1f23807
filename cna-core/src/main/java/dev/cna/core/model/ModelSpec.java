package dev.cna.core.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How a user names a model: empty or "default" for the default model, a catalog name ({@link ModelCatalog}, e.g.
 * qwen2.5-coder-1.5b) for that model in the model store, {@code hf:ORG/NAME} for a Hugging Face repository in the
 * model store, or a path to a GGUF file or a Hugging Face directory. A catalog name wins over a relative path
 * spelled the same (write ./NAME for the path).
 */
public record ModelSpec(String text) {
    public static final String HF_PREFIX = "hf:";

    public boolean isDefault() {
        return text == null || text.isBlank() || text.equals("default");
    }

    /** The catalog entry this spec names, the default model included. */
    public Optional<CatalogModel> catalogModel() {
        return isDefault() ? Optional.of(ModelCatalog.DEFAULT) : ModelCatalog.find(text);
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
        Optional<CatalogModel> catalog = catalogModel();
        if (catalog.isPresent()) {
            return ModelStore.modelsDir().resolve(catalog.get().file());
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
            String hint = isDefault() ? "; run ./cna model pull"
                    : catalogModel().isPresent() || isHuggingFace() ? "; run ./cna model pull " + text
                    : "; a catalog name (./cna model list), hf:ORG/NAME or a path";
            throw new IllegalArgumentException("model not found: " + p + hint);
        }
        return p;
    }
}
