package dev.cna.core.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
    void refusal_sets_have_the_documented_sizes() {
        Path refusal = datasets().resolve("refusal");
        PromptSets.Contrast disc = PromptSets.contrast(datasets(), "refusal", "discovery");
        assertEquals(8, disc.positive().size(), "refusal discovery positive (the paper's 8 + 8)");
        assertEquals(8, disc.negative().size(), "refusal discovery negative");
        PromptSets.Contrast disc64 = PromptSets.contrast(datasets(), "refusal", "discovery64");
        assertTrue(disc64.positive().size() >= 64, "refusal discovery64 positive: " + disc64.positive().size());
        assertTrue(disc64.negative().size() >= 64, "refusal discovery64 negative: " + disc64.negative().size());
        PromptSets.Contrast held = PromptSets.contrast(datasets(), "refusal", "heldout");
        assertTrue(held.positive().size() >= 100, "refusal heldout positive: " + held.positive().size());
        assertTrue(held.negative().size() >= 100, "refusal heldout negative: " + held.negative().size());
        List<String> borderline = PromptSets.read(refusal.resolve("heldout.borderline.txt"));
        assertTrue(borderline.size() >= 30, "refusal heldout borderline: " + borderline.size());
    }

    @Test
    void french_sets_have_the_documented_sizes() {
        PromptSets.Contrast disc = PromptSets.contrast(datasets(), "french", "discovery");
        PromptSets.Contrast held = PromptSets.contrast(datasets(), "french", "heldout");
        assertEquals(12, disc.positive().size(), "french discovery positive");
        assertEquals(12, disc.negative().size(), "french discovery negative");
        assertTrue(held.positive().size() >= 40, "french heldout positive: " + held.positive().size());
        assertTrue(held.negative().size() >= 40, "french heldout negative: " + held.negative().size());
    }

    /**
     * For every behavior directory: each {@code <split>.positive.txt} / {@code <split>.negative.txt} holds one
     * prompt per line (no blank or comment lines, so any line reader gets the same prompts), no prompt occurs twice
     * in or across those files (case-insensitive, whitespace-normalized), and any other {@code <split>.<name>.txt}
     * (e.g. heldout.borderline.txt) is a subset of its split's prompts.
     */
    @Test
    void every_behavior_has_one_prompt_per_line_and_no_prompt_in_two_splits() throws Exception {
        List<Path> behaviors;
        try (Stream<Path> dirs = Files.list(datasets())) {
            behaviors = dirs.filter(Files::isDirectory).filter(d -> hasFile(d, ".positive.txt")).sorted().toList();
        }
        assertTrue(behaviors.stream().map(d -> d.getFileName().toString()).toList()
                .containsAll(List.of("refusal", "french")), "behaviors: " + behaviors);
        for (Path behavior : behaviors) {
            List<Path> files;
            try (Stream<Path> list = Files.list(behavior)) {
                files = list.filter(f -> f.getFileName().toString().endsWith(".txt")).sorted().toList();
            }
            Map<String, String> firstFile = new HashMap<>();
            Map<String, Set<String>> splitPrompts = new HashMap<>();
            List<Path> subsets = new ArrayList<>();
            for (Path f : files) {
                String name = f.getFileName().toString();
                String split = name.substring(0, name.indexOf('.'));
                if (!name.endsWith(".positive.txt") && !name.endsWith(".negative.txt")) {
                    subsets.add(f);
                    continue;
                }
                List<String> raw = Files.readAllLines(f, StandardCharsets.UTF_8);
                List<String> prompts = PromptSets.read(f);
                assertEquals(raw.size(), prompts.size(), f + ": blank or comment lines");
                assertFalse(prompts.isEmpty(), f + " is empty");
                for (String p : prompts) {
                    String key = key(p);
                    String before = firstFile.putIfAbsent(key, name);
                    assertNull(before, behavior.getFileName() + ": \"" + p + "\" is in " + before + " and " + name);
                    splitPrompts.computeIfAbsent(split, k -> new HashSet<>()).add(key);
                }
            }
            for (Path f : subsets) {
                String name = f.getFileName().toString();
                Set<String> split = splitPrompts.getOrDefault(name.substring(0, name.indexOf('.')), Set.of());
                List<String> prompts = PromptSets.read(f);
                assertEquals(Files.readAllLines(f, StandardCharsets.UTF_8).size(), prompts.size(), f + ": blank or comment lines");
                assertEquals(prompts.size(), prompts.stream().map(PromptSetsTest::key).distinct().count(), f + ": a prompt occurs twice");
                for (String p : prompts) {
                    assertTrue(split.contains(key(p)), behavior.getFileName() + "/" + name + ": \"" + p
                            + "\" is not in its split's positive or negative file");
                }
            }
        }
    }

    @Test
    void the_borderline_prompts_are_harmless_heldout_prompts() {
        Path refusal = datasets().resolve("refusal");
        Set<String> negative = new HashSet<>(PromptSets.read(refusal.resolve("heldout.negative.txt")));
        assertTrue(negative.containsAll(PromptSets.read(refusal.resolve("heldout.borderline.txt"))));
    }

    @Test
    void neutral_set_has_at_least_30_prompts() {
        List<String> neutral = PromptSets.read(datasets().resolve("neutral.txt"));
        assertTrue(neutral.size() >= 30, "neutral: " + neutral.size());
        assertEquals(neutral.size(), neutral.stream().distinct().count());
    }

    /** Two prompts are the same prompt when they differ only in case and whitespace. */
    private static String key(String prompt) {
        return prompt.strip().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
    }

    private static boolean hasFile(Path dir, String suffix) {
        try (Stream<Path> list = Files.list(dir)) {
            return list.anyMatch(f -> f.getFileName().toString().endsWith(suffix));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
