package dev.cna.core.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MultipleChoiceTest {

    private static final String GOOD = "{\"question\": \"What is the capital of Australia?\", "
            + "\"choices\": [\"Sydney\", \"Canberra\", \"Melbourne\", \"Perth\"], \"answer\": \"B\"}";

    @TempDir
    Path dir;

    @Test
    void reads_a_valid_file() throws Exception {
        Path f = dir.resolve("q.jsonl");
        Files.writeString(f, "\uFEFF" + GOOD + "\n\n# a comment\n"
                + "{\"answer\": \"D\", \"choices\": [\"2\", \"3\", \"5\", \" 4 \"], \"question\": \" What is 2 + 2? \"}\n",
                StandardCharsets.UTF_8);
        List<MultipleChoice> qs = MultipleChoice.read(f);
        assertEquals(2, qs.size());
        assertEquals(new MultipleChoice("What is the capital of Australia?",
                List.of("Sydney", "Canberra", "Melbourne", "Perth"), 'B'), qs.get(0));
        assertEquals(1, qs.get(0).answerIndex());
        assertEquals("What is 2 + 2?", qs.get(1).question());
        assertEquals("4", qs.get(1).choices().get(qs.get(1).answerIndex()));
    }

    @Test
    void prompt_lists_the_lettered_choices_and_ends_with_answer() {
        MultipleChoice q = new MultipleChoice("What is the capital of Australia?",
                List.of("Sydney", "Canberra", "Melbourne", "Perth"), 'B');
        assertEquals("What is the capital of Australia?\nA. Sydney\nB. Canberra\nC. Melbourne\nD. Perth\nAnswer:",
                q.prompt());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"question\": \"Q?\", \"choices\": [\"a\", \"b\", \"c\"], \"answer\": \"A\"}                | needs 4 choices, has 3",
            "{\"question\": \"Q?\", \"choices\": [\"a\", \"b\", \"c\", \"d\"], \"answer\": \"E\"}         | answer must be one of A, B, C, D",
            "{\"question\": \"Q?\", \"choices\": [\"a\", \"b\", \"c\", \"d\"], \"answer\": \"AB\"}        | answer must be one of A, B, C, D",
            "{\"question\": \"Q?\", \"choices\": [\"a\", \"b\", \"c\", \"d\"]}                           | missing string field \"answer\"",
            "{\"question\": \"  \", \"choices\": [\"a\", \"b\", \"c\", \"d\"], \"answer\": \"A\"}         | question is blank",
            "{\"question\": \"Q?\", \"choices\": [\"a\", \"b\", \"A\", \"d\"], \"answer\": \"A\"}         | choice C repeats an earlier choice",
            "{\"question\": \"Q?\", \"choices\": [\"a\", \"\", \"c\", \"d\"], \"answer\": \"A\"}          | choice B is blank",
            "{\"question\": \"Q?\", \"choices\": [\"a\", 2, \"c\", \"d\"], \"answer\": \"A\"}             | must be an array of 4 strings",
            "{\"question\": \"Q?\", \"choices\": \"a\", \"answer\": \"A\"}                               | must be an array of 4 strings",
            "{\"question\": \"Q?\", \"choices\": [\"a\", \"b\", \"c\", \"d\"], \"answers\": \"A\"}        | unknown field \"answers\"",
            "[\"Q?\", \"a\", \"b\", \"c\", \"d\"]                                                        | not a JSON object",
            "{\"question\": \"Q?\", \"choices\": [\"a\", \"b\"                                           | not valid JSON",
    })
    void a_bad_line_is_reported_with_file_and_line_number(String line, String reason) throws Exception {
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, GOOD + "\n\n" + line.strip() + "\n" + GOOD + "\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MultipleChoice.read(f));
        assertTrue(e.getMessage().startsWith(f + ":3: "), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void missing_file_is_an_error() {
        assertThrows(UncheckedIOException.class, () -> MultipleChoice.read(dir.resolve("nope.jsonl")));
    }

    @Test
    void the_committed_set_has_at_least_150_distinct_questions_with_balanced_answers() {
        List<MultipleChoice> qs = MultipleChoice.read(PromptSetsTest.datasets().resolve("capability/questions.jsonl"));
        assertTrue(qs.size() >= 150, "questions: " + qs.size());
        assertEquals(qs.size(), qs.stream().map(q -> q.question().toLowerCase(Locale.ROOT)).distinct().count(),
                "a question occurs twice");
        Map<Character, Long> perLetter = qs.stream()
                .collect(Collectors.groupingBy(MultipleChoice::answer, Collectors.counting()));
        assertEquals(4, perLetter.size(), "answer letters used: " + perLetter);
        for (long n : perLetter.values()) {
            // balanced: a model that always answers one letter scores about 25%; allow a few questions of slack
            assertTrue(Math.abs(n - qs.size() / 4.0) <= 4, "answers per letter: " + perLetter);
        }
    }
}
