package dev.cna.core.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads prompt sets. Two formats:
 * <ul>
 *   <li>plain text: one prompt per line;</li>
 *   <li>JSONL: one JSON object per line with a string field {@code "prompt"} (other fields ignored).
 *       A file is JSONL when its name ends in {@code .jsonl} or {@code .ndjson}, or when its first
 *       prompt line starts with <code>{</code>.</li>
 * </ul>
 * In both, blank lines and lines whose first non-blank character is {@code #} are skipped, and prompts
 * are stripped of surrounding whitespace. A UTF-8 byte-order mark is ignored.
 *
 * <p>Dataset layout ({@code datasets/README.md}): {@code datasets/<behavior>/<split>.positive.txt} and
 * {@code <split>.negative.txt} for the splits {@code discovery}, {@code heldout} (and {@code discovery64} for
 * refusal), read together by {@link #contrast}; subsets of a split such as
 * {@code refusal/heldout.borderline.txt} (the harmless held-out prompts that only look risky), read with
 * {@link #read}; and {@code datasets/neutral.txt}.
 */
public final class PromptSets {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Positive (behavior present) and negative (behavior absent) prompts of one split. */
    public record Contrast(String behavior, String split, List<String> positive, List<String> negative) {
        public Contrast {
            positive = List.copyOf(positive);
            negative = List.copyOf(negative);
        }
    }

    private PromptSets() {
    }

    /**
     * Reads the prompts of one file.
     *
     * @throws UncheckedIOException     if the file cannot be read
     * @throws IllegalArgumentException for a JSONL line that is not an object with a string "prompt"
     *                                  (the message names file and line)
     */
    public static List<String> read(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        Boolean jsonl = name.endsWith(".jsonl") || name.endsWith(".ndjson") ? Boolean.TRUE : null;
        List<String> prompts = new ArrayList<>();
        for (Line line : dataLines(file, "prompt set")) {
            if (jsonl == null) {
                jsonl = line.text().startsWith("{");
            }
            prompts.add(jsonl ? promptField(line.text(), file, line.number()) : line.text());
        }
        return List.copyOf(prompts);
    }

    /** A line of a data file that holds data: its number (from 1) and its text, stripped. */
    record Line(int number, String text) {
    }

    /**
     * The lines of a UTF-8 data file that hold data: stripped, without a leading byte-order mark, blank lines and
     * lines whose first non-blank character is {@code #}. Shared by the prompt and question readers.
     *
     * @param what what the file is, for the error message ("prompt set")
     * @throws UncheckedIOException if the file cannot be read
     */
    static List<Line> dataLines(Path file, String what) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + what + " " + file, e);
        }
        List<Line> data = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (i == 0 && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
            String s = line.strip();
            if (!s.isEmpty() && !s.startsWith("#")) {
                data.add(new Line(i + 1, s));
            }
        }
        return data;
    }

    /** Reads {@code <split>.positive.txt} and {@code <split>.negative.txt} of {@code datasets/<behavior>/}. */
    public static Contrast contrast(Path datasets, String behavior, String split) {
        Path dir = datasets.resolve(behavior);
        return new Contrast(behavior, split,
                read(dir.resolve(split + ".positive.txt")),
                read(dir.resolve(split + ".negative.txt")));
    }

    private static String promptField(String line, Path file, int lineNo) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + ":" + lineNo + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode prompt = node == null ? null : node.get("prompt");
        if (prompt == null || !prompt.isTextual()) {
            throw new IllegalArgumentException(file + ":" + lineNo + ": JSONL line has no string field \"prompt\"");
        }
        String p = prompt.asText().strip();
        if (p.isEmpty()) {
            throw new IllegalArgumentException(file + ":" + lineNo + ": empty \"prompt\"");
        }
        return p;
    }
}
