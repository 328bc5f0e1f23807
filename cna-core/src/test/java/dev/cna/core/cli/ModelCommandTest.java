package dev.cna.core.cli;

import dev.cna.core.model.ModelCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelCommandTest {
    @TempDir
    Path dir;

    @Test
    void theListShowsEachCatalogModelsSizeSha256AndWhetherItIsPulled() throws Exception {
        // Files of the right size (sparse): the list reads sizes and records, it never hashes.
        sized(dir.resolve("SmolLM2-135M-Instruct.Q4_1.gguf"), 98_362_432L);
        Files.writeString(dir.resolve("SmolLM2-135M-Instruct.Q4_1.gguf.sha256"),
                ModelCatalog.DEFAULT.sha256() + "  SmolLM2-135M-Instruct.Q4_1.gguf\n");
        sized(dir.resolve("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"), 1_117_320_768L);

        String[] lines = ModelCommand.table(dir).split("\n");
        assertEquals(5, lines.length, String.join("\n", lines));
        assertTrue(lines[0].matches("NAME +MODEL +SIZE +SHA256 +PULLED"), lines[0]);
        assertTrue(lines[1].matches("default +SmolLM2-135M-Instruct Q4_1 +98\\.4 MB +b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53 +yes"), lines[1]);
        assertTrue(lines[2].matches("qwen2\\.5-coder-1\\.5b +Qwen2\\.5-Coder-1\\.5B-Instruct Q4_K_M +1117\\.3 MB "
                + "+cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046 +unverified"), lines[2]);
        assertTrue(lines[3].matches("qwen2\\.5-coder-0\\.5b +Qwen2\\.5-Coder-0\\.5B-Instruct Q4_K_M +491\\.4 MB "
                + "+1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32 +no"), lines[3]);
        assertEquals("store: " + dir, lines[4]);
    }

    @Test
    void modelListRunsOnTheRealStore() {
        CliRun o = CliRun.of("model", "list");
        assertEquals(0, o.exit(), o.err());
        // ./cna test pulls the default model before the tests run.
        assertTrue(o.out().lines().anyMatch(l -> l.startsWith("default ") && l.endsWith(" yes")), o.out());
        assertTrue(o.out().contains("qwen2.5-coder-1.5b ") && o.out().contains("qwen2.5-coder-0.5b "), o.out());
    }

    private static void sized(Path file, long size) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
    }
}
