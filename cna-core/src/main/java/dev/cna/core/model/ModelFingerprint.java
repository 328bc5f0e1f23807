package dev.cna.core.model;

import dev.cna.core.model.Sha256;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The identity of a model's weights: circuits carry it so they are never applied to another model.
 *
 * <p>A weight file's fingerprint is its SHA-256. A Hugging Face directory's is that of its only .safetensors
 * file, or, for several shards, the SHA-256 of the manifest {@code "<sha256>  <file name>\n"} over the shards
 * in name order. Hashes are cached in {@code <file>.sha256} sidecars ({@code "<hex>  <file name>"}, the format
 * the model puller writes), trusted only when not older than the file.
 */
public final class ModelFingerprint {
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

    private ModelFingerprint() {}

    public static String of(Path weightFileOrDir) throws IOException {
        if (!Files.isDirectory(weightFileOrDir)) {
            return fileHash(weightFileOrDir);
        }
        List<Path> shards;
        try (Stream<Path> files = Files.list(weightFileOrDir)) {
            shards = files.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                    .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
                    .toList();
        }
        if (shards.isEmpty()) {
            throw new IOException("no .safetensors files in " + weightFileOrDir);
        }
        if (shards.size() == 1) {
            return fileHash(shards.get(0)); // same fingerprint whether named by directory or by file
        }
        MessageDigest manifest = sha256();
        for (Path shard : shards) {
            manifest.update((fileHash(shard) + "  " + shard.getFileName() + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(manifest.digest());
    }

    private static String fileHash(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("no weight file at " + file);
        }
        Path sidecar = file.resolveSibling(file.getFileName() + ".sha256");
        if (Files.isRegularFile(sidecar)
                && Files.getLastModifiedTime(sidecar).compareTo(Files.getLastModifiedTime(file)) >= 0) {
            String recorded = Files.readString(sidecar).trim().split("\\s+")[0];
            if (HEX.matcher(recorded).matches()) {
                return recorded;
            }
        }
        String hash = Sha256.of(file);
        try {
            Files.writeString(sidecar, hash + "  " + file.getFileName() + "\n");
        } catch (IOException e) {
            // The sidecar is only a cache: a read-only model directory must still work, just slower next time.
        }
        return hash;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
