package dev.cna.core.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

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
}
