package dev.cna.core.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cna eval} on the real default model, with a tiny sweep (2 prompts per side, 8 tokens). */
class EvalCommandTest {
    private static Path write(Path dir, String name, String... lines) throws IOException {
        return Files.write(dir.resolve(name), List.of(lines), StandardCharsets.UTF_8);
    }

    @Test
    void aTinySweepWritesAReportWithOneRowPerStrength(@TempDir Path dir) throws IOException {
        Path pos = write(dir, "pos.txt", "Quelle est la capitale de la France ?", "Pourquoi le ciel est-il bleu ?");
        Path neg = write(dir, "neg.txt", "What is the capital of France?", "Why is the sky blue?");
        Path neutral = write(dir, "neutral.txt", "The weather today is", "Once upon a time");
        Path questions = write(dir, "questions.jsonl",
                "{\"question\": \"What is the capital of France?\", \"choices\": [\"Paris\", \"Rome\", \"Oslo\", \"Lima\"], \"answer\": \"A\"}",
                "{\"question\": \"How many legs has a spider?\", \"choices\": [\"Six\", \"Eight\", \"Ten\", \"Four\"], \"answer\": \"B\"}");
        Path circuit = dir.resolve("french.circuit.json");
        CliRun a = CliRun.of("attribute", "--positive", pos.toString(), "--negative", neg.toString(),
                "--top-k", "50", "--name", "french", "--out", circuit.toString());
        assertEquals(0, a.exit(), a.err());

        Path out = dir.resolve("report");
        CliRun o = CliRun.of("eval", "--circuit", circuit.toString(), "--prompts", pos.toString(),
                "--negative", neg.toString(), "--neutral", neutral.toString(), "--capability", questions.toString(),
                "--caa", pos + "," + neg, "--multipliers", "0,1", "--max-tokens", "8", "--out", out.toString());
        assertEquals(0, o.exit(), o.err());

        for (String ext : List.of(".md", ".png", ".json", ".samples.jsonl")) {
            assertTrue(Files.size(out.resolve("french" + ext)) > 0, "french" + ext);
        }
        // cna m = 0, 1 and caa at the matching alphas m - 1 = -1, 0
        JsonNode rows = new ObjectMapper().readTree(out.resolve("french.json").toFile()).get("rows");
        Set<String> points = new HashSet<>();
        for (JsonNode r : rows) {
            points.add(r.get("method").asText() + " " + r.get("strength").asDouble());
            for (String key : List.of("positiveRate", "negativeRate", "meanQuality", "capability")) {
                double v = r.get(key).asDouble();
                assertTrue(v >= 0 && v <= 1, key + " = " + v + " in " + r);
            }
            assertTrue(r.get("meanKl").asDouble() >= 0, r.toString());
            assertEquals(r.get("unsteered").asBoolean(), r.get("meanKl").asDouble() == 0.0, r.toString());
        }
        assertEquals(Set.of("cna 0.0", "cna 1.0", "caa -1.0", "caa 0.0"), points);
        assertEquals(4, rows.size());

        String md = Files.readString(out.resolve("french.md"));
        assertTrue(md.contains("| cna | 0.0 |") && md.contains("| cna (unsteered) | 1.0 |")
                && md.contains("| caa | -1.0 |") && md.contains("| caa (unsteered) | 0.0 |"), md);
        // one stdout line per (method, strength), plus the header
        assertEquals(5, o.out().strip().lines().count(), o.out());
        assertTrue(o.out().lines().anyMatch(l -> l.matches("cna\\s+0\\s+\\d+\\.\\d%\\s+\\d+\\.\\d%\\s+\\d\\.\\d{3}\\s+\\d.*")),
                o.out());
        // every reply of every point is kept for inspection
        assertEquals(4 * 4, Files.readAllLines(out.resolve("french.samples.jsonl")).size());

        // a circuit whose name names no detector needs --behavior (checked before the model loads)
        Path mystery = Files.writeString(dir.resolve("mystery.circuit.json"),
                Files.readString(circuit).replace("\"name\":\"french\"", "\"name\":\"mystery\""));
        CliRun m = CliRun.of("eval", "--circuit", mystery.toString(), "--prompts", pos.toString(), "--out", out.toString());
        assertEquals(1, m.exit());
        assertTrue(m.err().contains("give --behavior"), m.err());
    }

    @Test
    void sampledRepliesAreKeptPerSampleAndRepeatAcrossStrengthsWithTheSameSeeds(@TempDir Path dir) throws IOException {
        Path pos = write(dir, "pos.txt", "Quelle est la capitale de la France ?", "Pourquoi le ciel est-il bleu ?");
        Path neg = write(dir, "neg.txt", "What is the capital of France?", "Why is the sky blue?");
        Path circuit = dir.resolve("french.circuit.json");
        assertEquals(0, CliRun.of("attribute", "--positive", pos.toString(), "--negative", neg.toString(),
                "--top-k", "50", "--name", "french", "--out", circuit.toString()).exit());

        Path out = dir.resolve("report");
        CliRun o = CliRun.of("eval", "--circuit", circuit.toString(), "--prompts", pos.toString(),
                "--negative", neg.toString(), "--multipliers", "1,0.999999", "--max-tokens", "12",
                "--temperature", "0.8", "--top-k", "40", "--top-p", "0.95", "--samples", "3", "--seed", "7",
                "--out", out.toString());
        assertEquals(0, o.exit(), o.err());
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = Files.readAllLines(out.resolve("french.samples.jsonl")).stream()
                .map(l -> { try { return json.readTree(l); } catch (IOException e) { throw new AssertionError(e); } })
                .toList();
        // 2 strengths x 2 sides x 2 prompts x 3 samples, sample indexes 0..2 under each prompt
        assertEquals(24, lines.size());
        assertEquals(List.of(0, 1, 2, 0, 1, 2), lines.subList(0, 6).stream().map(n -> n.get("sample").asInt()).toList());
        assertEquals(lines.get(0).get("prompt"), lines.get(2).get("prompt"));
        // the three samples of a prompt differ (they are sampled, not repeated) ...
        List<String> first = lines.subList(0, 3).stream().map(n -> n.get("reply").asText()).toList();
        assertTrue(new HashSet<>(first).size() > 1, first.toString());
        // ... and a strength indistinguishable from 1 draws the same seeds, so it gives the same replies
        for (int i = 0; i < 12; i++) {
            assertEquals(lines.get(i).get("reply"), lines.get(i + 12).get("reply"), "reply " + i);
        }
        assertTrue(Files.readString(out.resolve("french.md")).contains("sampled at temperature 0.8, top-k 40"));

        CliRun greedySamples = CliRun.of("eval", "--circuit", circuit.toString(), "--prompts", pos.toString(),
                "--samples", "2", "--out", out.toString());
        assertEquals(1, greedySamples.exit());
        assertTrue(greedySamples.err().contains("--samples"), greedySamples.err());
    }
}
