package dev.cna.core.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvalReportTest {

    @TempDir
    Path dir;

    private static List<EvalRow> sweep() {
        return List.of(
                new EvalRow("cna", 1.0, 0.10, 0.025, 0.991, 0.0, Double.NaN),
                new EvalRow("cna", 0.0, 0.05, 0.025, 0.985, 0.0123, Double.NaN),
                new EvalRow("cna", 3.0, 0.60, 0.05, 0.978, 0.0456, Double.NaN),
                new EvalRow("caa", 0.0, 0.10, 0.025, 0.991, 0.0, Double.NaN),
                new EvalRow("caa", 0.5, 0.45, 0.20, 0.912, 0.2, Double.NaN),
                new EvalRow("caa", 1.0, 0.70, 0.55, 0.483, Double.NaN, Double.NaN));
    }

    @Test
    void writes_markdown_png_and_json_with_the_figures() throws Exception {
        EvalReport.Written w = new EvalReport("refusal", sweep())
                .model("SmolLM2-135M-Instruct Q4_1")
                .promptCounts(40, 40, 32)
                .note("circuit: top 200 neurons from datasets/refusal/discovery.*")
                .write(dir.resolve("out"), "refusal-sweep");

        assertEquals(dir.resolve("out/refusal-sweep.md"), w.markdown());
        for (Path p : List.of(w.markdown(), w.png(), w.json())) {
            assertTrue(Files.isRegularFile(p), p.toString());
            assertTrue(Files.size(p) > 100, p + " is too small");
        }

        String md = Files.readString(w.markdown());
        assertTrue(md.contains("| cna (unsteered) | 1.0 | 10.0% | 2.5% | 0.991 | 0.0000 |"), md);
        assertTrue(md.contains("| cna | 3.0 | 60.0% | 5.0% | 0.978 | 0.0456 |"), md);
        assertTrue(md.contains("| caa | 0.5 | 45.0% | 20.0% | 0.912 | 0.2000 |"), md);
        assertTrue(md.contains("| caa | 1.0 | 70.0% | 55.0% | 0.483 | n/a |"), md);
        assertTrue(md.contains("![behavior rate and quality vs strength](refusal-sweep.png)"));
        assertTrue(md.contains("circuit: top 200 neurons"));
        assertTrue(md.contains("SmolLM2-135M-Instruct Q4_1"));
        // derived, honest notes
        assertTrue(md.contains("shows refusal on only 10.0% of positive prompts"), md);
        assertTrue(md.contains("cna: quality stayed >= 0.97 at every strength (min 0.978)"), md);
        assertTrue(md.contains("caa: quality fell to 0.483 at strength 1.0"), md);
        assertTrue(md.contains("caa: the negative-prompt rate moved to 55.0%"), md);
        assertFalse(md.contains("cna: the negative-prompt rate moved"), md);
        assertTrue(md.contains("cna: lowest positive rate 5.0% at strength 0.0 (baseline 10.0%), quality 0.985 there (within sampling noise)."), md);
        assertTrue(md.contains("cna: highest positive rate 60.0% at strength 3.0 (baseline 10.0%), quality 0.978, negative-prompt rate 5.0% there."), md);
        assertTrue(md.contains("With 40 positive prompts a rate moves in steps of 2.5 pp"), md);

        BufferedImage img = ImageIO.read(w.png().toFile());
        assertNotNull(img, "PNG does not decode");
        assertEquals(4 * EvalReport.PANEL_WIDTH, img.getWidth()); // rate, quality, KL and rate-vs-quality panels
        assertEquals(EvalReport.PANEL_HEIGHT, img.getHeight());

        JsonNode json = new ObjectMapper().readTree(w.json().toFile());
        assertEquals("refusal", json.get("behavior").asText());
        assertEquals(40, json.get("prompts").get("positive").asInt());
        JsonNode rows = json.get("rows");
        assertEquals(6, rows.size());
        // sorted by method, then strength: caa first
        assertEquals("caa", rows.get(0).get("method").asText());
        assertTrue(rows.get(0).get("unsteered").asBoolean());
        JsonNode cna3 = rows.get(5);
        assertEquals("cna", cna3.get("method").asText());
        assertEquals(3.0, cna3.get("strength").asDouble(), 0.0);
        assertEquals(0.60, cna3.get("positiveRate").asDouble(), 0.0);
        assertEquals(0.05, cna3.get("negativeRate").asDouble(), 0.0);
        assertEquals(0.978, cna3.get("meanQuality").asDouble(), 0.0);
        assertEquals(0.0456, cna3.get("meanKl").asDouble(), 0.0);
        assertTrue(rows.get(2).get("meanKl").isNull(), "NaN KL is written as null");
        assertTrue(json.get("notes").size() >= 5);
    }

    @Test
    void plot_without_kl_has_three_panels() throws Exception {
        List<EvalRow> rows = List.of(
                new EvalRow("cna", 1.0, 0.8, 0.1, 0.99, Double.NaN, Double.NaN),
                new EvalRow("cna", 0.0, 0.3, 0.1, 0.98, Double.NaN, Double.NaN));
        EvalReport.Written w = new EvalReport("refusal", rows).write(dir, "r");
        BufferedImage img = ImageIO.read(w.png().toFile());
        assertEquals(3 * EvalReport.PANEL_WIDTH, img.getWidth()); // rate, quality, rate vs quality
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(w.png()), 8);
        assertArrayEquals(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head);
        String md = Files.readString(w.markdown());
        assertTrue(md.contains("cna: lowest positive rate 30.0% at strength 0.0 (baseline 80.0%), quality 0.980 there."), md);
        assertTrue(md.contains("Next-token KL on neutral text was not measured."), md);
        assertFalse(md.contains("shows refusal on only"), md);
    }

    @Test
    void no_baseline_row_is_reported() {
        String md = new EvalReport("french", List.of(new EvalRow("cna", 2.0, 0.5, 0.1, 1.0, 0.01, Double.NaN)))
                .toMarkdown(null);
        assertTrue(md.contains("No unsteered row"), md);
        assertTrue(md.contains("| cna | 2.0 | 50.0% | 10.0% | 1.000 | 0.0100 |"), md);
    }

    @Test
    void rows_are_validated() {
        assertThrows(IllegalArgumentException.class, () -> new EvalRow("cna", 0, 1.5, 0, 1, 0, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new EvalRow("cna", 0, 0.5, 0, 1, -1, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new EvalRow(" ", 0, 0.5, 0, 1, 0, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new EvalRow("cna", Double.NaN, 0.5, 0, 1, 0, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new EvalReport("refusal", List.of()));
        assertTrue(new EvalRow("CNA", 1.0, 0, 0, 1, 0, Double.NaN).isIdentity());
        assertTrue(new EvalRow("caa", 0.0, 0, 0, 1, 0, Double.NaN).isIdentity());
        assertFalse(new EvalRow("caa", 1.0, 0, 0, 1, 0, Double.NaN).isIdentity());
    }
}
