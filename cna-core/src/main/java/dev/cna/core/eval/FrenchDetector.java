package dev.cna.core.eval;

import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Detects a reply written in French. Counts French function words (le, la, les, des, est, et, pour,
 * dans, avec, vous, ... and elided forms l', d', qu', c', j', n', s') against English function words
 * (the, and, is, of, to, with, you, ...); words that are both (e.g. "a", "on") count for neither.
 * The reply is French when at least {@link #MIN_FUNCTION_WORDS} function words are found and the French
 * share {@code fr / (fr + en)} is above {@link #DEFAULT_THRESHOLD}.
 */
public final class FrenchDetector implements BehaviorDetector {

    public static final String NAME = "french";
    public static final double DEFAULT_THRESHOLD = 0.5;
    public static final int MIN_FUNCTION_WORDS = 3;

    static final Set<String> FRENCH = Set.of(
            "le", "la", "les", "un", "une", "des", "du", "de", "et", "est", "sont", "en", "au", "aux",
            "que", "qui", "quoi", "pour", "dans", "avec", "pas", "ne", "ce", "cette", "ces", "cet",
            "il", "elle", "ils", "elles", "nous", "vous", "je", "tu", "mais", "ou", "où", "par", "très",
            "aussi", "être", "avoir", "à", "votre", "vos", "notre", "nos", "leur", "leurs", "mon", "ma",
            "mes", "ton", "ta", "tes", "sa", "ses", "été", "peut", "peux", "faut", "comme", "sur",
            "entre", "sans", "chez", "donc", "car", "voici", "ça", "cela", "ceci");

    static final Set<String> ENGLISH = Set.of(
            "the", "and", "is", "are", "of", "to", "in", "that", "for", "it", "with", "be", "this",
            "you", "i", "was", "were", "have", "has", "not", "or", "by", "at", "from", "but", "can",
            "your", "will", "would", "they", "we", "he", "she", "an", "these", "those", "which", "what",
            "there", "their", "it's", "don't", "i'm", "here", "my", "our", "been", "do", "does", "if", "so");

    private static final Pattern TOKEN = Pattern.compile("(?:[ldjnscmt]|qu)'|[\\p{L}]+(?:'[\\p{L}]+)?");

    private final double threshold;

    public FrenchDetector() {
        this(DEFAULT_THRESHOLD);
    }

    public FrenchDetector(double threshold) {
        if (!(threshold >= 0 && threshold < 1)) {
            throw new IllegalArgumentException("threshold must be in [0, 1): " + threshold);
        }
        this.threshold = threshold;
    }

    @Override
    public boolean shows(String reply) {
        int[] c = counts(reply);
        int total = c[0] + c[1];
        return total >= MIN_FUNCTION_WORDS && (double) c[0] / total > threshold;
    }

    /** French share of the function words, in [0, 1]; NaN when the reply has none. */
    public static double frenchShare(String reply) {
        int[] c = counts(reply);
        int total = c[0] + c[1];
        return total == 0 ? Double.NaN : (double) c[0] / total;
    }

    /** {french function words, english function words}. */
    static int[] counts(String reply) {
        String text = BehaviorDetector.normalize(reply);
        int fr = 0;
        int en = 0;
        Matcher m = TOKEN.matcher(text);
        while (m.find()) {
            String w = m.group();
            if (w.endsWith("'")) {
                fr++; // elided article or pronoun: l', d', qu', c', j', n', s', m', t'
            } else if (FRENCH.contains(w)) {
                fr++;
            } else if (ENGLISH.contains(w)) {
                en++;
            }
        }
        return new int[]{fr, en};
    }

    @Override
    public String name() {
        return NAME;
    }
}
