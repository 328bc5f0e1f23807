package dev.cna.core.model;

import dev.cna.core.model.gguf.GgufWeights;
import dev.cna.core.model.hf.HfWeights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Opens a model from disk whatever its format: a GGUF file or a Hugging Face directory. */
public final class ModelLoader {
    private static final byte[] GGUF_MAGIC = "GGUF".getBytes(StandardCharsets.US_ASCII);

    private ModelLoader() {}

    /** A .gguf file (or any file starting with the GGUF magic), or a directory holding config.json. */
    public static WeightSource open(Path path) {
        if (Files.isDirectory(path)) {
            if (!Files.isRegularFile(path.resolve("config.json"))) {
                throw new ModelFormatException(path, null,
                        "directory has no config.json, so it is not a Hugging Face model directory");
            }
            return HfWeights.open(path);
        }
        if (!Files.exists(path)) {
            throw new ModelFormatException(path, null, "no such file or directory");
        }
        if (path.getFileName().toString().endsWith(".gguf") || startsWithGgufMagic(path)) {
            return GgufWeights.open(path);
        }
        throw new ModelFormatException(path, null,
                "not a model: expected a .gguf file or a Hugging Face directory with config.json");
    }

    private static boolean startsWithGgufMagic(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return Arrays.equals(in.readNBytes(4), GGUF_MAGIC);
        } catch (IOException e) {
            throw new ModelFormatException(file, null, "cannot read: " + e.getMessage(), e);
        }
    }
}
