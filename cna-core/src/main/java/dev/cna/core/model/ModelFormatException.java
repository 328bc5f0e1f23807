package dev.cna.core.model;

import java.nio.file.Path;

/** A model file that cannot be used, naming the file, the tensor (when one is at fault) and the reason. */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(Path file, String tensor, String reason) {
        super(file + (tensor == null ? "" : ": tensor " + tensor) + ": " + reason);
    }

    public ModelFormatException(Path file, String tensor, String reason, Throwable cause) {
        super(file + (tensor == null ? "" : ": tensor " + tensor) + ": " + reason, cause);
    }
}
