package dev.cna.core.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * One multiple-choice question of the capability set ({@code datasets/capability/questions.jsonl}): a question,
 * four choices lettered A-D and the letter of the one correct choice. The capability check scores a model by the
 * log-probability of each answer letter after {@link #prompt()} (no generation), as MMLU is usually scored.
 *
 * @param question the question text, not blank
 * @param choices  exactly four distinct, non-blank choices, in the order A, B, C, D
 * @param answer   the letter of the correct choice, one of {@code 'A'..'D'}
 */
public record MultipleChoice(String question, List<String> choices, char answer) {

    /** The choice letters, in order. */
    public static final List<String> LETTERS = List.of("A", "B", "C", "D");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> FIELDS = Set.of("question", "choices", "answer");

    public MultipleChoice {
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(choices, "choices");
        question = question.strip();
        if (question.isEmpty()) {
            throw new IllegalArgumentException("question is blank");
        }
        if (choices.size() != LETTERS.size()) {
            throw new IllegalArgumentException("needs " + LETTERS.size() + " choices, has " + choices.size());
        }
        choices = choices.stream().map(c -> Objects.requireNonNull(c, "choice").strip()).toList();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < choices.size(); i++) {
            if (choices.get(i).isEmpty()) {
                throw new IllegalArgumentException("choice " + LETTERS.get(i) + " is blank");
            }
            if (!seen.add(choices.get(i).toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("choice " + LETTERS.get(i) + " repeats an earlier choice: "
                        + choices.get(i));
            }
        }
        if (answer < 'A' || answer > 'D') {
            throw new IllegalArgumentException("answer must be one of A, B, C, D, got '" + answer + "'");
        }
    }

    /** Index of the correct choice in {@link #choices()}, 0-3. */
    public int answerIndex() {
        return answer - 'A';
    }

    /**
     * The question as the model sees it, for example
     * <pre>
     * What is the capital of Australia?
     * A. Sydney
     * B. Canberra
     * C. Melbourne
     * D. Perth
     * Answer:</pre>
     * It ends with "Answer:" and no space, so the next token is the letter (" B" in most tokenizers).
     */
    public String prompt() {
        StringBuilder sb = new StringBuilder(question).append('\n');
        for (int i = 0; i < choices.size(); i++) {
            sb.append(LETTERS.get(i)).append(". ").append(choices.get(i)).append('\n');
        }
        return sb.append("Answer:").toString();
    }

    /**
     * Reads a JSONL file of questions, one object per line:
     * {@code {"question": "...", "choices": ["...", "...", "...", "..."], "answer": "B"}}. Blank lines and lines
     * starting with {@code #} are skipped, as in {@link PromptSets#read}.
     *
     * @throws UncheckedIOException     if the file cannot be read
     * @throws IllegalArgumentException for a bad line; the message starts with {@code file:line:} and says what
     *                                  is wrong (invalid JSON, a missing or unknown field, not four choices, an
     *                                  answer that is not A-D, ...)
     */
    public static List<MultipleChoice> read(Path file) {
        List<MultipleChoice> questions = new ArrayList<>();
        for (PromptSets.Line line : PromptSets.dataLines(file, "question set")) {
            try {
                questions.add(parse(line.text()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ":" + line.number() + ": " + e.getMessage(), e);
            }
        }
        return List.copyOf(questions);
    }

    private static MultipleChoice parse(String line) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        // An unknown field is most likely a misspelt one ("answers"), so it is an error rather than ignored.
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw new IllegalArgumentException("unknown field \"" + name + "\" (expected question, choices, answer)");
            }
        }
        String question = text(node, "question");
        JsonNode choices = node.get("choices");
        if (choices == null || !choices.isArray()) {
            throw new IllegalArgumentException("\"choices\" must be an array of " + LETTERS.size() + " strings");
        }
        List<String> list = new ArrayList<>();
        for (JsonNode c : choices) {
            if (!c.isTextual()) {
                throw new IllegalArgumentException("\"choices\" must be an array of " + LETTERS.size() + " strings");
            }
            list.add(c.asText());
        }
        String answer = text(node, "answer");
        if (answer.length() != 1) {
            throw new IllegalArgumentException("answer must be one of A, B, C, D, got \"" + answer + "\"");
        }
        return new MultipleChoice(question, list, answer.charAt(0));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new IllegalArgumentException("missing string field \"" + field + "\"");
        }
        return value.asText();
    }
}
