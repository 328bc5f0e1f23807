package dev.cna.core.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class PromptSetsTest {

    @TempDir
    Path dir;

    @Test
    void plain_text_skips_blanks_and_comments() throws Exception {
        Path f = dir.resolve("p.txt");
        Files.writeString(f, "\uFEFF# a comment\nFirst prompt  \n\n   \n  # indented comment\nSecond: {not json}\n",
                StandardCharsets.UTF_8);
        assertEquals(List.of("First prompt", "Second: {not json}"), PromptSets.read(f));
    }

    @Test
    void jsonl_reads_the_prompt_field() throws Exception {
        Path f = dir.resolve("p.jsonl");
        Files.writeString(f, "# header\n{\"prompt\": \"Say \\\"hi\\\"\", \"label\": 1}\n\n{\"id\": 7, \"prompt\": \"Line two\"}\n");
        assertEquals(List.of("Say \"hi\"", "Line two"), PromptSets.read(f));
    }

    @Test
    void jsonl_is_detected_by_content_in_a_txt_file() throws Exception {
        Path f = dir.resolve("p.txt");
        Files.writeString(f, "{\"prompt\": \"one\"}\n{\"prompt\": \"two\"}\n");
        assertEquals(List.of("one", "two"), PromptSets.read(f));
    }

    @Test
    void jsonl_errors_name_file_and_line() throws Exception {
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, "{\"prompt\": \"ok\"}\n{\"text\": \"no prompt field\"}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PromptSets.read(f));
        assertTrue(e.getMessage().contains("bad.jsonl:2"), e.getMessage());

        Path g = dir.resolve("broken.jsonl");
        Files.writeString(g, "{\"prompt\": \n");
        assertThrows(IllegalArgumentException.class, () -> PromptSets.read(g));
    }

    @Test
    void missing_file_is_an_error() {
        assertThrows(UncheckedIOException.class, () -> PromptSets.read(dir.resolve("nope.txt")));
    }

    // ---- the committed datasets (datasets/ at the repository root)

    public static Path datasets() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("datasets"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("datasets/ not found above " + Path.of("").toAbsolutePath());
        }
        return p.resolve("datasets");
    }

    @Test
    void refusal_sets_have_the_documented_sizes_and_are_disjoint() {
        checkBehavior("refusal");
    }

    @Test
    void french_sets_have_the_documented_sizes_and_are_disjoint() {
        checkBehavior("french");
    }

    @Test
    void neutral_set_has_at_least_30_prompts() {
        List<String> neutral = PromptSets.read(datasets().resolve("neutral.txt"));
        assertTrue(neutral.size() >= 30, "neutral: " + neutral.size());
        assertEquals(neutral.size(), neutral.stream().distinct().count());
    }

    private static void checkBehavior(String behavior) {
        PromptSets.Contrast disc = PromptSets.contrast(datasets(), behavior, "discovery");
        PromptSets.Contrast held = PromptSets.contrast(datasets(), behavior, "heldout");
        assertEquals(12, disc.positive().size(), behavior + " discovery positive");
        assertEquals(12, disc.negative().size(), behavior + " discovery negative");
        assertTrue(held.positive().size() >= 40, behavior + " heldout positive: " + held.positive().size());
        assertTrue(held.negative().size() >= 40, behavior + " heldout negative: " + held.negative().size());
        List<String> all = new java.util.ArrayList<>();
        all.addAll(disc.positive());
        all.addAll(disc.negative());
        all.addAll(held.positive());
        all.addAll(held.negative());
        List<String> normalized = all.stream().map(s -> s.toLowerCase(java.util.Locale.ROOT)).toList();
        assertEquals(normalized.size(), normalized.stream().distinct().count(), behavior + ": a prompt occurs twice");
    }
}
