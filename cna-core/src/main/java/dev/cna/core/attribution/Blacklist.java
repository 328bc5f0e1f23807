package dev.cna.core.attribution;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.cna.core.circuit.Neuron;
import dev.cna.core.model.ModelStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The universal neurons of one model (docs/method.md section 3), cached as {@code <dir>/<fingerprint>.json}, by
 * default under {@code ${CNA_HOME}/blacklists}.
 */
public record Blacklist(String fingerprint, Set<Neuron> neurons) {
    private static final Pattern FINGERPRINT = Pattern.compile("[0-9a-f]{64}");
    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    public Blacklist {
        // The fingerprint becomes a file name: only a sha256 is allowed, so no path can escape the cache.
        if (fingerprint == null || !FINGERPRINT.matcher(fingerprint).matches()) {
            throw new IllegalArgumentException("blacklist fingerprint must be 64 lowercase hex digits (sha256), got " + fingerprint);
        }
        if (neurons == null) {
            throw new IllegalArgumentException("blacklist neurons are required");
        }
        neurons = Collections.unmodifiableSortedSet(new TreeSet<>(neurons));
    }

    public static Path cacheDir() {
        return ModelStore.home().resolve("blacklists");
    }

    /** The cached blacklist of a model, or empty if there is none. */
    public static Optional<Blacklist> load(Path dir, String fingerprint) throws IOException {
        Path file = file(dir, fingerprint);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Blacklist blacklist;
        try {
            blacklist = MAPPER.readValue(file.toFile(), Blacklist.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException("cannot read blacklist " + file + " (delete it to detect again): " + e.getMessage(), e);
        }
        if (!blacklist.fingerprint().equals(fingerprint)) {
            throw new IOException("blacklist " + file + " is for model " + blacklist.fingerprint() + " (delete it to detect again)");
        }
        return Optional.of(blacklist);
    }

    /** Writes {@code <dir>/<fingerprint>.json}, atomically so a concurrent reader never sees half a file. */
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path target = file(dir, fingerprint);
        Path tmp = Files.createTempFile(dir, fingerprint, ".part");
        try {
            MAPPER.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), this);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static Path file(Path dir, String fingerprint) {
        if (!FINGERPRINT.matcher(fingerprint).matches()) {
            throw new IllegalArgumentException("model fingerprint must be 64 lowercase hex digits (sha256), got " + fingerprint);
        }
        return dir.resolve(fingerprint + ".json");
    }
}
