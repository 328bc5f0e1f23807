package dev.cna.core.eval;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Generation quality of the published protocol (docs/method.md section 7): {@code 1 - (share of repeated word
 * 4-grams)}. 1.0 means no 4-gram repeats; a model that collapses into a loop goes toward 0.
 *
 * <p>Definitions, so the number is reproducible: words are maximal runs of letters, digits, apostrophes
 * and hyphens, lower-cased (punctuation and case do not make a repeat distinct). A text with {@code n >= 4}
 * words has {@code T = n - 3} word 4-grams, {@code D} of them distinct. The repeated ones are the
 * {@code T - D} occurrences that repeat an earlier 4-gram, so
 * {@code quality = 1 - (T - D) / T = D / T}. A text with fewer than 4 words has quality 1.0.
 *
 * <p>Example: "the cat sat on the cat sat on" has 5 4-grams, 4 distinct, quality 0.8.
 */
public final class Quality {

    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}'\u2019-]+");
    private static final int N = 4;

    private Quality() {
    }

    /** Quality of one text in [0, 1]; 1.0 for null, empty or fewer than 4 words. */
    public static double of(String text) {
        List<String> words = words(text);
        int total = words.size() - N + 1;
        if (total <= 0) {
            return 1.0;
        }
        Set<String> distinct = new HashSet<>();
        for (int i = 0; i < total; i++) {
            distinct.add(String.join("\u0000", words.subList(i, i + N)));
        }
        int repeated = total - distinct.size();
        return 1.0 - (double) repeated / total;
    }

    /** Mean quality over texts; NaN for an empty collection. */
    public static double mean(Collection<String> texts) {
        if (texts.isEmpty()) {
            return Double.NaN;
        }
        double sum = 0;
        for (String t : texts) {
            sum += of(t);
        }
        return sum / texts.size();
    }

    /** The words quality is computed over (lower-cased, punctuation dropped). */
    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        Matcher m = WORD.matcher(text.toLowerCase(Locale.ROOT).replace('\u2019', '\''));
        while (m.find()) {
            String w = m.group();
            // a lone hyphen or apostrophe (e.g. " - ") is punctuation, not a word
            if (w.chars().anyMatch(Character::isLetterOrDigit)) {
                out.add(w);
            }
        }
        return out;
    }
}
