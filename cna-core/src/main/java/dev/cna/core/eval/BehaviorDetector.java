package dev.cna.core.eval;

import java.util.Collection;
import java.util.Locale;
import java.util.Objects;

/**
 * Decides whether one generated reply shows a behavior (refusal, answering in French, ...).
 * The behavior rate of a prompt set is the share of its replies for which {@link #shows} is true
 * (docs/method.md section 7).
 */
public interface BehaviorDetector {

    /** True when the reply shows the behavior. A null or empty reply never shows it. */
    boolean shows(String reply);

    /** Short name used in reports, e.g. "refusal". */
    default String name() {
        return getClass().getSimpleName();
    }

    /** Share of replies that show the behavior, in [0, 1]; NaN for an empty collection. */
    default double rate(Collection<String> replies) {
        Objects.requireNonNull(replies, "replies");
        if (replies.isEmpty()) {
            return Double.NaN;
        }
        long hits = replies.stream().filter(this::shows).count();
        return (double) hits / replies.size();
    }

    /**
     * The detector for a behavior by the name of its dataset directory ({@code datasets/<name>/}).
     *
     * @throws IllegalArgumentException for an unknown behavior
     */
    static BehaviorDetector forBehavior(String behavior) {
        String key = behavior.trim().toLowerCase(Locale.ROOT);
        switch (key) {
            case RefusalDetector.NAME:
                return new RefusalDetector();
            case FrenchDetector.NAME:
                return new FrenchDetector();
            default:
                throw new IllegalArgumentException("no detector for behavior '" + behavior
                        + "' (known: " + RefusalDetector.NAME + ", " + FrenchDetector.NAME + ")");
        }
    }

    /**
     * Lower-cases a reply and folds typographic apostrophes and quotes to ASCII, so phrase lists need
     * only one spelling ("i can’t" matches "i can't").
     */
    static String normalize(String text) {
        return foldQuotes(text).toLowerCase(Locale.ROOT);
    }

    /**
     * Folds typographic apostrophes and quotes to ASCII and non-breaking spaces to spaces, keeping case (so it can
     * also be applied to a regular expression, where {@code \S} and {@code \s} differ).
     */
    static String foldQuotes(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\u2018': case '\u2019': case '\u201A': case '\u201B': case '\u2032': case '\u02BC':
                case '\uFF07': case '`': case '\u00B4':
                    sb.append('\'');
                    break;
                case '\u201C': case '\u201D': case '\u201E': case '\u201F': case '\u00AB': case '\u00BB':
                    sb.append('"');
                    break;
                case '\u00A0': case '\u2009': case '\u202F':
                    sb.append(' ');
                    break;
                default:
                    sb.append(c);
            }
        }
        return sb.toString();
    }
}
