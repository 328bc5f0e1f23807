package dev.cna.core.eval;

import dev.cna.core.tokenizer.Tokenizer;

import java.util.List;

/**
 * Multiple-choice accuracy without generation, as lm-evaluation-harness scores MMLU: the question with its lettered
 * choices is the prompt, and the answer is the letter whose token has the highest logit at the next position. A
 * letter counts as the token "A" and the token " A", whichever scores higher, so raw prompts ending in "Answer:" and
 * chat replies that start with the letter are both read right.
 */
public final class CapabilityScorer {
    /**
     * One question.
     *
     * @param prompt  the question and its lettered choices, as the model reads it
     * @param choices how many choices (letters A, B, ...), 2 to 26
     * @param answer  index of the right choice
     */
    public record Question(String prompt, int choices, int answer) {
        public Question {
            if (choices < 2 || choices > 26 || answer < 0 || answer >= choices) {
                throw new IllegalArgumentException("a question needs 2 to 26 choices and an answer among them, got "
                        + choices + " choices, answer " + answer);
            }
        }
    }

    /** [letter][variant]: the token ids of "A" and " A", ... (-1 where the text is not one token). */
    private final int[][] letterTokens;

    public CapabilityScorer(Tokenizer tokenizer) {
        letterTokens = new int[26][];
        for (int i = 0; i < 26; i++) {
            String letter = String.valueOf((char) ('A' + i));
            letterTokens[i] = new int[] {single(tokenizer, letter), single(tokenizer, " " + letter)};
            if (letterTokens[i][0] < 0 && letterTokens[i][1] < 0) {
                throw new IllegalArgumentException("the tokenizer has no single token for the letter " + letter);
            }
        }
    }

    private static int single(Tokenizer tokenizer, String text) {
        int[] ids = tokenizer.encode(text);
        return ids.length == 1 ? ids[0] : -1;
    }

    /** The choice the logits at the answer position pick: the letter with the highest logit. */
    public int predicted(float[] logits, int choices) {
        int best = 0;
        float bestLogit = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < choices; c++) {
            for (int id : letterTokens[c]) {
                if (id >= 0 && logits[id] > bestLogit) {
                    bestLogit = logits[id];
                    best = c;
                }
            }
        }
        return best;
    }

    /**
     * @param logits next-token logits after each question's prompt, [question][vocab]
     * @return the share of questions answered right, in [0, 1]
     */
    public double accuracy(List<Question> questions, float[][] logits) {
        if (questions.size() != logits.length || questions.isEmpty()) {
            throw new IllegalArgumentException("one logits row per question, at least one question");
        }
        int right = 0;
        for (int i = 0; i < questions.size(); i++) {
            right += predicted(logits[i], questions.get(i).choices()) == questions.get(i).answer() ? 1 : 0;
        }
        return (double) right / questions.size();
    }
}
