package dev.cna.core.model;

import dev.cna.core.model.Sha256;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ModelFingerprintTest {
    private static final String FAKE = "0123456789abcdef".repeat(4);

    @Test
    void fileFingerprintIsItsSha256AndIsCachedInASidecar(@TempDir Path dir) throws IOException {
        Path model = Files.write(dir.resolve("tiny.gguf"), new byte[] {1, 2, 3, 4});
        String sha = Sha256.of(model);

        assertEquals(sha, ModelFingerprint.of(model));
        assertEquals(sha + "  tiny.gguf\n", Files.readString(dir.resolve("tiny.gguf.sha256")));
    }

    @Test
    void freshSidecarIsTrustedStaleOneIsNot(@TempDir Path dir) throws IOException {
        Path model = Files.write(dir.resolve("tiny.gguf"), new byte[] {5, 6, 7});
        Path sidecar = Files.writeString(dir.resolve("tiny.gguf.sha256"), FAKE + "  tiny.gguf\n");
        FileTime fileTime = FileTime.fromMillis(1_700_000_000_000L);
        Files.setLastModifiedTime(model, fileTime);

        Files.setLastModifiedTime(sidecar, FileTime.fromMillis(fileTime.toMillis() + 1000));
        assertEquals(FAKE, ModelFingerprint.of(model), "a sidecar not older than the file is the cache");

        Files.setLastModifiedTime(sidecar, FileTime.fromMillis(fileTime.toMillis() - 1000));
        assertEquals(Sha256.of(model), ModelFingerprint.of(model), "a stale sidecar is recomputed");
        assertEquals(Sha256.of(model) + "  tiny.gguf\n", Files.readString(sidecar));
    }

    @Test
    void directoryFingerprintCoversItsSafetensorsInNameOrder(@TempDir Path dir) throws IOException {
        Path second = Files.write(dir.resolve("model-00002-of-00002.safetensors"), new byte[] {2});
        Path first = Files.write(dir.resolve("model-00001-of-00002.safetensors"), new byte[] {1});
        Files.writeString(dir.resolve("config.json"), "{}");
        String manifest = Sha256.of(first) + "  model-00001-of-00002.safetensors\n"
                + Sha256.of(second) + "  model-00002-of-00002.safetensors\n";

        String fingerprint = ModelFingerprint.of(dir);
        assertEquals(sha256(manifest), fingerprint);

        Files.writeString(dir.resolve("config.json"), "{\"changed\": true}");
        assertEquals(fingerprint, ModelFingerprint.of(dir), "only weights count");
        Files.write(first, new byte[] {9});
        Files.setLastModifiedTime(first, FileTime.fromMillis(System.currentTimeMillis() + 10_000)); // newer than its sidecar
        assertNotEquals(fingerprint, ModelFingerprint.of(dir), "changed weights change the fingerprint");
    }

    @Test
    void singleShardDirectoryHasTheShardsFingerprint(@TempDir Path dir) throws IOException {
        Path shard = Files.write(dir.resolve("model.safetensors"), new byte[] {3, 1, 4});
        assertEquals(Sha256.of(shard), ModelFingerprint.of(dir));
    }

    @Test
    void missingWeightsAreAClearError(@TempDir Path dir) {
        IOException e = assertThrows(IOException.class, () -> ModelFingerprint.of(dir));
        assertEquals("no .safetensors files in " + dir, e.getMessage());
        assertThrows(IOException.class, () -> ModelFingerprint.of(dir.resolve("absent.gguf")));
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
